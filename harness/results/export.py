"""`bench export`: one model's result records in the formats people read scores in.

- ``eval-results``: the Hub's ``.eval_results/*.yaml`` files (one file per task and metric,
  written with huggingface_hub's ``EvalResultEntry``), shown on the model page;
- ``model-index``: the older ``model-index`` block of a model card's YAML front matter
  (``ModelCardData``/``EvalResult``), in a README.md;
- ``csv`` / ``json``: the same entries as a flat table, for pandas.

Values are in percent (0-100), exactly as the records hold them: the unit of the KLUE and
GLUE papers and of the leaderboard. The Hub shows a value as written, so a page then reads
"86.5" like the papers; every entry's notes (and the metric name) say "percent".

The Hub dataset and its config come from the task YAML's ``dataset.hub`` (``klue/klue`` +
``ynat``, ``nyu-mll/glue`` + ``mrpc``), never from a table here. The ``.eval_results`` format
has no metric field, so each file holds one metric and its notes name it. With a benchmark
(``--benchmark org/name``, the repo ``harness.results.hub_benchmark`` writes), a task the benchmark
defines names that repo and the task's koenbench id instead: the Hub shows ``.eval_results``
only for a registered Benchmark dataset.

Every entry names the record it came from (``source``): its path under the results folder and
the sha256 of its bytes, or a URL when the user says where that folder is published.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional, Sequence

import yaml
from pydantic import BaseModel, ConfigDict

from harness.core import checked, files
from harness.results import records, store
from harness.results.records import ResultRecord
from harness.tasks import heads, metrics
from harness.tasks.spec import TaskSpec

if TYPE_CHECKING:
    import pandas as pd

ExportFormat = Literal["eval-results", "model-index", "csv", "json"]
FORMATS: tuple[str, ...] = ("eval-results", "model-index", "csv", "json")

class ExportError(ValueError):
    """The user's model has no records here, or a record cannot be mapped to the Hub; the message says what to do."""


class ExportEntry(BaseModel):
    """One (task, metric) score of one model, with everything a reader needs to trust it."""

    model_config = ConfigDict(frozen=True)

    model_id: str
    model_revision: str
    task_id: str
    task_name: str
    task_type: str
    dataset_id: str
    dataset_config: Optional[str]
    dataset_split: str
    dataset_revision: Optional[str]  # the hub dataset commit the record used; None for local files
    metric: str
    metric_type: str
    metric_name: str
    value: float  # percent, as recorded
    std: float
    seeds: list[int]
    date: str
    protocol_followed: bool
    notes: str
    primary: bool = False  # the task's primary metric: the one value .eval_results holds for the task
    source: Optional[str] = None  # the record: its path under the results folder, or its URL (--source-url)
    source_sha256: Optional[str] = None  # of the record file's bytes, to check that a download is that record

    @property
    def source_is_url(self) -> bool:
        return bool(self.source) and self.source.startswith(("https://", "http://"))


@dataclass(frozen=True)
class RecordSource:
    """Where one exported record lies: what an entry's ``source`` and notes say."""

    path: str  # relative to the results folder, '/'-separated: never a path of this machine
    sha256: str
    url: Optional[str] = None  # the published copy: --source-url joined with ``path``

    @property
    def shown(self) -> str:
        return self.url or self.path


def check_source_url(base: str) -> Optional[str]:
    """Why ``base`` cannot be --source-url (None when it can): an http(s) URL of the published results folder."""
    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        return (f"--source-url {base!r}: give the http(s) URL of the published results folder, "
                "e.g. https://github.com/org/repo/blob/main/reports/results/")
    if parsed.query or parsed.fragment:
        return f"--source-url {base!r}: give the folder's URL without a query or fragment"
    return None


def record_source(stored: store.Stored, results_dir: Path, base_url: Optional[str] = None) -> RecordSource:
    """The record's path under ``results_dir``, its sha256, and with ``base_url`` the URL of its published copy."""
    path = stored.path.relative_to(results_dir).as_posix()
    url = None
    if base_url:
        url = base_url.rstrip("/") + "/" + urllib.parse.quote(path)
    return RecordSource(path=path, sha256=checked.sha256_hex(stored.path.read_bytes()), url=url)


def model_records(results_dir: Path, model: str) -> list[ResultRecord]:
    """The current record of each task of ``model`` under ``results_dir``: any ``--model`` value `bench run` takes,
    answered by the record store (one record a task, the newest; seed caches, history and failures left out)."""
    return [s.record for s in model_stored(results_dir, model)]


def model_stored(results_dir: Path, model: str) -> list[store.Stored]:
    """``model_records`` with the file each record was read from."""
    try:
        current = store.scan(Path(results_dir)).current_of(model)
    except store.NoRecords as err:
        raise ExportError(f"{err}. Run `bench run --model {model}` first, or pass --results DIR") from None
    return list(current.values())


UNRECORDED_PROTOCOL = store.UNRECORDED_PROTOCOL


def protocol_of(record: ResultRecord) -> tuple[bool, list[str]]:
    """(followed, deviations) from the record's protocol field; a record without one is not taken as a protocol run."""
    if record.protocol is None:
        return False, [UNRECORDED_PROTOCOL]
    return record.protocol.followed, list(record.protocol.deviations)


def dataset_revision(record: ResultRecord) -> Optional[str]:
    """The hub dataset commit a record was scored on, or None when it used local files."""
    if record.data.hub_revision:
        return record.data.hub_revision
    match = re.match(r"^hub:.+@(?P<revision>[^@]+)$", record.data.source)
    return match["revision"] if match else None


def _notes(record: ResultRecord, metric_name: str, metric: str, followed: bool, deviations: list[str],
           source: Optional[RecordSource]) -> str:
    seeds = [s.seed for s in record.seeds]
    parts = [
        f"koenbench {record.env.get('koenbench', '?')} (git {record.env.get('git', '?')}), "
        f"protocol of tasks/{record.task.id}.yaml",
        f"{metric_name}: mean {record.scores[metric]:.2f} ± {record.std[metric]:.2f} "
        f"(sample std) over {len(seeds)} seed(s) {','.join(map(str, seeds))}",
        "values in percent (0-100)",
    ]
    if dataset_revision(record) is None:
        parts.append("scored on local copies of the data files, not the hub dataset")  # a local path means nothing elsewhere
    parts.append("protocol followed" if followed else "DEVIATES from the protocol: " + "; ".join(deviations))
    if source is not None:
        parts.append(f"record {source.path} under the results folder (sha256 {source.sha256})")
    return "; ".join(parts)


def entries(found: list[ResultRecord], specs: dict[str, TaskSpec],
            sources: Mapping[str, RecordSource] = {}) -> list[ExportEntry]:
    """One entry per (task, metric) of ``records``, the primary metric first, tasks in ``specs`` order;
    ``sources`` (task id -> where its record lies) fills each entry's ``source``.

    A task of no hub dataset (a user's local-only task) gets ``dataset_id`` 'local:<task id>': kept in CSV
    and JSON; the Hub formats leave it out (``hub_entries``)."""
    order = {task_id: i for i, task_id in enumerate(specs)}
    out = []
    for record in sorted(found, key=lambda r: order.get(r.task.id, len(order))):
        task_id = record.task.id
        spec = specs.get(task_id)
        if spec is None:
            raise ExportError(f"task {task_id!r} of a record of {record.model.id} has no task YAML here; "
                              "give the folder of your own tasks with --tasks-dir, as to `bench run`")
        followed, deviations = protocol_of(record)
        primary = record.task.primary_metric
        unknown = sorted(set(record.scores) - set(metrics.METRICS))
        if unknown:
            raise ExportError(f"a record of {record.model.id} on {task_id} holds metric(s) {', '.join(map(repr, unknown))}, "
                              f"which this koenbench cannot name on the Hub (it knows {', '.join(metrics.METRICS)}); "
                              "export with the koenbench version that wrote the record")
        hub = spec.dataset.hub
        types = metric_types(list(record.scores))
        source = sources.get(task_id)
        for metric in [primary, *(m for m in record.scores if m != primary)]:
            metric_name = _hub_name(metric, spec, record)
            out.append(ExportEntry(
                model_id=record.model.id, model_revision=record.model.revision,
                task_id=task_id, task_name=spec.name, task_type=heads.get(spec.head).hub_task_type,
                dataset_id=hub.path if hub else f"local:{task_id}", dataset_config=hub.name if hub else None,
                dataset_split=scored_split(record), dataset_revision=dataset_revision(record),
                metric=metric, metric_type=types[metric], metric_name=metric_name,
                value=record.scores[metric], std=record.std[metric],
                seeds=[s.seed for s in record.seeds], date=record.started_at,
                protocol_followed=followed, notes=_notes(record, metric_name, metric, followed, deviations, source),
                primary=metric == primary, source=source.shown if source else None,
                source_sha256=source.sha256 if source else None,
            ))
    return out


def metric_types(names: list[str]) -> dict[str, str]:
    """Each metric's Hub type: its Hub id (f1, accuracy, pearsonr), or its own name where two metrics of one task share
    that id (KLUE-NER's entity and character F1 are both F1s: 'entity_f1', 'char_f1'), so no two values of a task
    claim one type."""
    ids = [metrics.get(m).hub_id for m in names]
    return {m: metrics.get(m).hub_id if ids.count(metrics.get(m).hub_id) == 1 else m for m in names}


def scored_split(record: ResultRecord) -> str:
    """The validation rows the record was scored on, as a split expression: a carve or an --eval-limit shows."""
    split = record.data.validation_split or "validation"
    limit = re.search(r"--eval-limit (\d+)", record.data.note or "")
    return f"{split}[:{limit[1]}]" if limit and "[" not in split else split


def hub_entries(items: list[ExportEntry]) -> list[ExportEntry]:
    """The entries the Hub can place: those of tasks with a hub dataset."""
    return [e for e in items if not e.dataset_id.startswith("local:")]


def _hub_name(metric: str, spec: TaskSpec, record: ResultRecord) -> str:
    """A recorded score's readable name on the Hub, with its unit and the spec's parameters."""
    found = metrics.get(metric)  # entries() has refused the metrics this version lacks
    try:
        return found.hub_label(spec.metrics.parameters)
    except metrics.MetricError as err:  # the task's YAML no longer sets a parameter the record's metric needs
        raise ExportError(f"a record of {record.model.id} on {spec.id} scores {metric!r}: {err}; "
                          "export with the task YAML it was run with") from None


def _file_stem(entry: ExportEntry) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{entry.task_id.replace('/', '-')}-{entry.metric}")


Contents = dict[str, str]  # file name relative to --out -> its text


def _hub_entry(entry: ExportEntry, benchmark: Optional[str], benchmark_tasks: frozenset[str]) -> Any:
    """The entry as huggingface_hub's ``EvalResultEntry``: on the benchmark's task when the benchmark defines it
    (the scored dataset then goes to the notes), else on the task's own hub dataset and config."""
    from huggingface_hub import EvalResultEntry

    source = {"source_url": entry.source, "source_name": "koenbench record"} if entry.source_is_url else {}
    if benchmark is not None and entry.task_id in benchmark_tasks:
        revision = f" at revision {entry.dataset_revision}" if entry.dataset_revision else ""
        scored = f"scored on {entry.dataset_id} ({entry.dataset_config}), split {entry.dataset_split}{revision}"
        return EvalResultEntry(dataset_id=benchmark, task_id=entry.task_id, value=entry.value, date=entry.date,
                               notes=f"{scored}; {entry.notes}", **source)
    return EvalResultEntry(dataset_id=entry.dataset_id, task_id=entry.dataset_config or "default", value=entry.value,
                           dataset_revision=entry.dataset_revision, date=entry.date, notes=entry.notes, **source)


def eval_results_files(items: list[ExportEntry], benchmark: Optional[str] = None,
                       benchmark_tasks: frozenset[str] = frozenset()) -> Contents:
    """``.eval_results/<suite>-<task>-<metric>.yaml``: each task's primary metric, one file each; with ``benchmark``,
    the tasks in ``benchmark_tasks`` name that benchmark repo and their koenbench task id (``harness.results.hub_benchmark``)."""
    from huggingface_hub import eval_result_entries_to_yaml

    out = {}
    for entry in hub_entries(items):
        if not entry.primary:
            continue  # the format holds one value per (dataset, task): the task's primary metric
        out[f".eval_results/{_file_stem(entry)}.yaml"] = yaml.safe_dump(
            eval_result_entries_to_yaml([_hub_entry(entry, benchmark, benchmark_tasks)]), allow_unicode=True,
            sort_keys=False)
    return out


def eval_results(items: list[ExportEntry]) -> list[Any]:
    """huggingface_hub ``EvalResult``s for a model card's model-index; a record published at a URL is their source."""
    from huggingface_hub import EvalResult

    return [
        EvalResult(
            task_type=e.task_type, task_name=e.task_name, dataset_type=e.dataset_id, dataset_name=e.task_name,
            dataset_config=e.dataset_config, dataset_split=e.dataset_split, dataset_revision=e.dataset_revision,
            metric_type=e.metric_type, metric_name=f"{e.metric_name}, {'protocol' if e.protocol_followed else 'NOT protocol'}",
            metric_value=e.value, source_url=e.source if e.source_is_url else None,
            source_name="koenbench record" if e.source_is_url else None,
        )
        for e in items
    ]


def card_body(items: list[ExportEntry]) -> str:
    """The README text under the front matter: how every number was made. Every value from a record is
    escaped for markdown and HTML (the site's escape): an id cannot add a heading, a link, a tag or a line."""
    from harness.site.escape import text as esc

    lines = [f"# {esc(items[0].model_id)}", "", "## Evaluation (koenbench)", "",
             "Validation scores in percent (0-100), mean ± sample std over seeds, fine-tuned and scored by koenbench.", ""]
    for e in items:
        lines.append(f"- {esc(e.task_name)} ({esc(e.dataset_id)}, {esc(e.dataset_config)}), {esc(e.metric_name)}: "
                     f"{esc(e.notes)}")
    return "\n".join(lines) + "\n"


def model_index_files(items: list[ExportEntry]) -> Contents:
    """README.md whose YAML front matter holds the model-index (the body says how each number was made)."""
    from huggingface_hub import ModelCard, ModelCardData

    data = ModelCardData(model_name=items[0].model_id, eval_results=eval_results(hub_entries(items)))
    return {"README.md": str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{card_body(items)}"))}


SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # a cell starting so is a formula to Excel and LibreOffice


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a string starting with = + - @, a tab or a carriage return gets
    a leading single quote (OWASP's advice against CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(SPREADSHEET_TRIGGERS):
        return "'" + value
    return value


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # rows end in CRLF (RFC 4180), so a lone CR or LF in a cell is quoted
    writer.writerow([spreadsheet_cell(h) for h in header])
    writer.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def table_files(items: list[ExportEntry], fmt: Literal["csv", "json"]) -> Contents:
    rows = [e.model_dump() for e in items]
    name = f"{records.model_slug(items[0].model_id)}.{fmt}"
    if fmt == "json":
        return {name: json.dumps(rows, ensure_ascii=False, indent=2) + "\n"}
    header = list(rows[0])
    return {name: _csv_text(header, [[" ".join(map(str, r[k])) if k == "seeds" else r[k] for k in header] for r in rows])}


def contents(items: list[ExportEntry], fmt: ExportFormat, benchmark: Optional[str] = None) -> Contents:
    if fmt == "eval-results":
        from harness.results import hub_benchmark

        return eval_results_files(items, benchmark, frozenset(hub_benchmark.task_ids()) if benchmark else frozenset())
    if fmt == "model-index":
        return model_index_files(items)
    return table_files(items, fmt)


MANIFEST = ".koenbench-export.json"  # in --out: the files `bench export` wrote there, with their sha256


def _manifest(out_dir: Path) -> dict[str, str]:
    try:
        found = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in found.get("files", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _check_out_dir(out_dir: Path) -> None:
    """--out must be a folder we can write in (or create): a file or a read-only place is named before anything is written."""
    problem = files.unwritable(out_dir)
    if problem:
        raise ExportError(f"--out {out_dir}: {problem}; give a folder you can write to")


def refused_overwrites(out_dir: Path, written: Contents) -> list[str]:
    """The files in ``out_dir`` this export would replace that `bench export` did not write (or that were changed
    since), unless they already hold exactly the new text."""
    ours = _manifest(out_dir)
    refused = []
    for name, text in written.items():
        path = out_dir / name
        if not path.exists():
            continue
        try:
            old = path.read_bytes()
        except OSError:
            refused.append(name)
            continue
        if old != text.encode("utf-8") and ours.get(name) != checked.sha256_hex(old):
            refused.append(name)
    return refused


def write_files(written: Contents, out_dir: Path, force: bool = False) -> list[Path]:
    """Write ``written`` under ``out_dir``, all or none (``harness.core.files``), and note them in its manifest.

    A file there that `bench export` did not write (a model card of the user's own, say) is never replaced
    without ``force``; an error of the disk (full, read-only) replaces nothing and is an ExportError.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    refused = [] if force else refused_overwrites(out_dir, written)
    if refused:
        raise ExportError(f"--out {out_dir}: would replace {', '.join(refused)}, which `bench export` did not write "
                          "(or which was changed since); nothing was written. Give --force to replace, or another --out")
    manifest = {**_manifest(out_dir), **{name: checked.sha256_hex(text.encode("utf-8")) for name, text in written.items()}}
    everything = {out_dir / name: text for name, text in written.items()}
    everything[out_dir / MANIFEST] = json.dumps({"files": manifest}, indent=2, sort_keys=True) + "\n"
    try:
        paths = files.write_many(everything)
    except OSError as err:
        raise ExportError(f"--out {out_dir}: could not write the files ({err.strerror or err}); nothing was replaced") from None
    return paths[:-1]


def write(items: list[ExportEntry], out_dir: Path, fmt: ExportFormat, force: bool = False,
          benchmark: Optional[str] = None) -> list[Path]:
    return write_files(contents(items, fmt, benchmark), out_dir, force)


class PushError(RuntimeError):
    """The files could not go to the Hub (no network, no rights); they stay in the output folder."""


class NoToken(PushError):
    """No Hugging Face token is configured: the user's set-up to fix before pushing."""


def _token() -> Optional[str]:
    from huggingface_hub import get_token

    return get_token()


def merged_model_card(api: Any, repo_id: str, local_card: Path) -> None:
    """Put our model-index into the repo's own README.md (its text and other metadata kept), in place of ``local_card``.

    Results on other datasets or configs stay; ours replace every result on a (dataset, config) we measured.
    """
    from huggingface_hub import ModelCard
    from huggingface_hub.errors import EntryNotFoundError

    ours = ModelCard.load(local_card)
    try:
        theirs = ModelCard.load(api.hf_hub_download(repo_id=repo_id, filename="README.md", repo_type="model"))
    except EntryNotFoundError:
        return  # the repo has no card yet: ours is the whole card
    measured = {(r.dataset_type, r.dataset_config) for r in ours.data.eval_results}
    kept = [r for r in (theirs.data.eval_results or []) if (r.dataset_type, r.dataset_config) not in measured]
    theirs.data.eval_results = kept + list(ours.data.eval_results)
    theirs.data.model_name = theirs.data.model_name or ours.data.model_name
    write_files({local_card.name: str(theirs)}, local_card.parent, force=True)  # ours, merged: noted as ours


def push(paths: list[Path], out_dir: Path, repo_id: str, create_pr: bool, api: Any = None) -> str:
    """One commit (or pull request) adding ``paths`` (relative to ``out_dir``) to the model repo; returns its URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    if _token() is None:
        raise NoToken("no Hugging Face token: run `hf auth login` or set HF_TOKEN, then push again")
    api = api or HfApi()
    try:
        readme = [p for p in paths if p.name == "README.md" and p.parent == Path(out_dir)]
        if readme:
            merged_model_card(api, repo_id, readme[0])
        operations = [CommitOperationAdd(path_in_repo=p.relative_to(out_dir).as_posix(), path_or_fileobj=str(p))
                      for p in paths]
        info = api.create_commit(
            repo_id=repo_id, repo_type="model", operations=operations, create_pr=create_pr,
            commit_message="Add koenbench evaluation results",
            commit_description="KLUE and GLUE validation scores fine-tuned and scored by koenbench; "
                               "each entry's notes give the protocol, seeds and mean ± std.",
        )
    except Exception as err:  # offline mode, no network, no write access: all leave the files where they are
        raise PushError(f"could not push to {repo_id}: {type(err).__name__}: {err}") from err
    return getattr(info, "pr_url", None) or str(info)


@dataclass(frozen=True)
class Exported:
    written: list[Path]
    left_out: list[str]  # why each record or task is not in the files, one line each


def export_model(model_id: str, fmt: str, out_dir: Path, results_dir: Path, force: bool = False,
                 include_deviations: bool = False, tasks_dir: Sequence[Path] = (), source_url: Optional[str] = None,
                 benchmark: Optional[str] = None) -> Exported:
    """Read ``model_id``'s current records under ``results_dir`` and write them to ``out_dir`` as ``fmt``.

    Records that did not follow their task's protocol (a smoke run, the demo, overrides) are left out unless
    ``include_deviations``; when that leaves nothing, the export is refused. A task without a hub dataset is
    kept in CSV and JSON and left out of the Hub formats, which cannot place it. Each entry names its record
    (``source_url``: where ``results_dir`` is published); ``benchmark`` points ``.eval_results`` at that repo."""
    from harness.core import paths
    from harness.tasks import spec

    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    found = model_stored(results_dir, model_id)
    left_out = [] if include_deviations else [
        f"{s.task_id}: did not follow its task's protocol ({'; '.join(protocol_of(s.record)[1])}); "
        "--include-deviations exports it" for s in found if not protocol_of(s.record)[0]]
    kept = [s for s in found if include_deviations or protocol_of(s.record)[0]]
    if not kept:
        raise ExportError(f"every record of {model_id!r} under {results_dir} departs from its task's protocol, so none "
                          "would be a comparable score on the Hub:\n  " + "\n  ".join(left_out) +
                          "\nRun the tasks' protocols, or pass --include-deviations (each entry's notes then say how it deviates)")
    specs = {s.id: s for s in spec.load_tasks(["all"], paths.task_dirs(list(tasks_dir)))}
    sources = {s.task_id: record_source(s, Path(results_dir), source_url) for s in kept}
    items = entries([s.record for s in kept], specs, sources)
    if fmt in ("eval-results", "model-index"):
        left_out += [f"{e.task_id}: no hub dataset (a local-only task); the Hub formats cannot place it, csv and json keep it"
                     for e in items if e.primary and e.dataset_id.startswith("local:")]
        if not hub_entries(items):
            raise ExportError("no record here is of a task with a hub dataset:\n  " + "\n  ".join(left_out) +
                              "\nExport it as csv or json instead")
    return Exported(write(items, out_dir, fmt, force, benchmark), left_out)  # type: ignore[arg-type]


def export_benchmark_repo(repo_id: str, out_dir: Path, force: bool = False) -> list[Path]:
    """The koenbench benchmark repo (``harness.results.hub_benchmark``) written to ``out_dir``, as the exports are."""
    from harness.results import hub_benchmark

    try:
        written = hub_benchmark.repo_files(repo_id)
    except hub_benchmark.BenchmarkError as err:
        raise ExportError(str(err)) from None
    return write_files(written, out_dir, force)


def leaderboard_frame(board: "pd.DataFrame", tasks: "pd.DataFrame") -> "pd.DataFrame":
    """The site's ranked table as plain columns: model, each task's primary score, suite averages and coverage.

    ``board`` is ``site.aggregate.leaderboard`` (index model id; task-id columns, ``avg:``/``n:``/``of:``
    per group); ``tasks`` is ``site.aggregate.tasks_frame``. Column names say the metric, e.g.
    ``klue/ynat macro_f1``; scores are percent, as recorded. Ranked rows only: baselines and
    off-protocol runs are not in it.
    """
    import pandas as pd

    frame = pd.DataFrame({"rank": range(1, len(board) + 1), "model_id": list(board.index)})
    for task_id in tasks.index:
        if task_id in board.columns:
            frame[f"{task_id} {tasks.loc[task_id, 'primary']}"] = list(board[task_id].round(4))
    groups = [c.removeprefix("avg:") for c in board.columns if c.startswith("avg:")]
    for group in groups:
        frame[f"average {group}"] = list(board[f"avg:{group}"].round(4))
        frame[f"tasks {group}"] = [f"{int(n)}/{int(of)}" for n, of in zip(board[f"n:{group}"], board[f"of:{group}"])]
    return frame


def write_leaderboard(board: "pd.DataFrame", tasks: "pd.DataFrame", out_dir: Path) -> list[Path]:
    """leaderboard.csv and leaderboard.json in ``out_dir``, for `pandas.read_csv` / `read_json` (missing: empty / null)."""
    frame = leaderboard_frame(board, tasks)
    out_dir = Path(out_dir)
    # the CSV opens in spreadsheets: text cells are neutralised (spreadsheet_cell); the JSON keeps every value as is
    shown = frame.rename(columns=spreadsheet_cell).map(spreadsheet_cell)
    return files.write_many({out_dir / "leaderboard.csv": shown.to_csv(index=False, lineterminator="\r\n"),
                             out_dir / "leaderboard.json": frame.to_json(orient="records", force_ascii=False, indent=2) + "\n"})
