"""`bench export`: a tiny model's records in the Hub's two formats, read back with huggingface_hub's own parsers;
`--push` checked through the commit it would send (the Hub is unreachable here)."""

import csv
import html
import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, metadata_load, parse_eval_result_entries
from huggingface_hub.repocard_data import model_index_to_eval_results
from typer.testing import CliRunner

from harness.cli import app
from harness.core import paths
from harness.demo import SAMPLES_DIR
from harness.results import export, records
from harness.tasks import spec

TASKS = "glue/mrpc,klue/ynat"


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_english_bert) -> tuple[Path, str]:
    """Two tasks, two seeds, one epoch on the bundled samples: real records of a tiny model."""
    output = tmp_path_factory.mktemp("results")
    result = bench("run", "--model", str(tiny_english_bert), "--tasks", TASKS, "--seeds", "42,43",
                   "--data-dir", str(SAMPLES_DIR), "--set", "epochs=1", "--output", str(output))
    assert result.exit_code == 0, result.output
    record = records.to_json(records.read_result(next(output.glob("*/glue__mrpc.json"))))
    tiny_run_output[:] = [result.output]
    return output, record["model"]["id"]


tiny_run_output: list[str] = []  # what `bench run` printed, for the summary-table test


def test_run_records_and_prints_each_tasks_baseline(tiny_run):
    output, _ = tiny_run
    found = {r.task.id: r for r in (records.read_result(p) for p in output.glob("*/*.json"))}
    assert found["glue/mrpc"].baseline.kind == "majority-class"
    assert found["klue/ynat"].baseline.scores["macro_f1"] < found["klue/ynat"].baseline.scores["accuracy"]
    (printed,) = tiny_run_output
    assert "baseline" in printed and f"{found['glue/mrpc'].baseline.scores['f1']:.2f}" in printed


def records_by_task(output: Path) -> dict[str, dict]:
    return {r["task"]["id"]: r for r in (records.to_json(records.read_result(p)) for p in output.glob("*/*.json"))}


def test_eval_results_files_parse_with_huggingface_hub(tiny_run, tmp_path):
    output, model_id = tiny_run
    result = bench("export", "--model", model_id, "--format", "eval-results", "--out", str(tmp_path), "--results", str(output),
                   "--include-deviations")
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / ".eval_results").glob("*.yaml"))
    # one value per (dataset, task), as the format holds: each task's primary metric
    assert [f.name for f in files] == ["glue-mrpc-f1.yaml", "klue-ynat-macro_f1.yaml"]
    recorded = records_by_task(output)
    for file in files:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert isinstance(raw, list) and len(raw) == 1
        assert set(raw[0]) <= {"dataset", "value", "verifyToken", "date", "source", "notes"}  # the documented fields
        assert set(raw[0]["dataset"]) <= {"id", "task_id", "revision"}
        (entry,) = parse_eval_result_entries(raw)
        suite, task, metric = file.stem.split("-", 2)
        record = recorded[f"{suite}/{task}"]
        assert entry.value == record["scores"][metric]  # percent, exactly as recorded
        assert entry.dataset_id == {"glue": "nyu-mll/glue", "klue": "klue/klue"}[suite]
        assert entry.task_id == {"mrpc": "mrpc", "ynat": "ynat"}[task]
        assert entry.dataset_revision is None  # the samples are local files, not a hub revision
        assert entry.date == record["started_at"]
        assert "seed(s) 42,43" in entry.notes and "percent" in entry.notes and "± " in entry.notes
        assert f"koenbench {record['env']['koenbench']}" in entry.notes
        assert "local copies" in entry.notes and str(SAMPLES_DIR.resolve()) not in entry.notes  # no path of this machine
        assert "DEVIATES from the protocol" in entry.notes  # --set epochs=1


def test_model_index_reads_back_through_model_card_and_metadata_load(tiny_run, tmp_path):
    output, model_id = tiny_run
    result = bench("export", "--model", model_id, "--format", "model-index", "--out", str(tmp_path), "--results", str(output),
                   "--include-deviations")
    assert result.exit_code == 0, result.output
    card_path = tmp_path / "README.md"
    metadata = metadata_load(card_path)
    name, parsed = model_index_to_eval_results(metadata["model-index"])
    assert name == model_id
    card = ModelCard.load(card_path)
    assert len(card.data.eval_results) == len(parsed) == 4
    recorded = records_by_task(output)
    by_key = {(r.dataset_type, r.dataset_config, r.metric_name.split(",")[0]): r for r in parsed}
    ynat = by_key[("klue/klue", "ynat", "macro F1 (%)")]
    assert ynat.task_type == "text-classification" and ynat.metric_type == "f1" and ynat.dataset_split == "validation"
    assert ynat.metric_value == recorded["klue/ynat"]["scores"]["macro_f1"]
    mrpc = by_key[("nyu-mll/glue", "mrpc", "F1 (%)")]
    assert mrpc.metric_value == recorded["glue/mrpc"]["scores"]["f1"]
    assert "seed(s) 42,43" in html.unescape(card.text)  # the body says how each number was made (escaped for markdown)


def test_csv_and_json_hold_the_same_entries(tiny_run, tmp_path):
    import pandas as pd

    output, model_id = tiny_run
    for fmt in ("csv", "json"):
        assert bench("export", "--model", model_id, "--format", fmt, "--out", str(tmp_path), "--results", str(output),
                     "--include-deviations").exit_code == 0
    slug = records.model_slug(model_id)
    table = pd.read_csv(tmp_path / f"{slug}.csv")
    rows = json.loads((tmp_path / f"{slug}.json").read_text(encoding="utf-8"))
    assert len(table) == len(rows) == 4
    assert list(table["value"]) == [r["value"] for r in rows]
    assert set(table["dataset_id"]) == {"nyu-mll/glue", "klue/klue"}


def test_a_hub_record_carries_its_dataset_revision_and_deviations(tiny_run, tmp_path):
    output, _ = tiny_run
    local = records.read_result(next(output.glob("*/klue__ynat.json")))
    # the same record as if scored on the hub dataset, off protocol (synthetic: made up here)
    hub = local.model_copy(update={
        "data": local.data.model_copy(update={"source": "hub:klue/klue/ynat@0123abcd", "hub_revision": "0123abcd"}),
        "protocol": records.Protocol(followed=False, deviations=["epochs 1 (protocol: 4)"]), "synthetic": True,
    })
    items = export.entries([hub], {s.id: s for s in spec.load_tasks(["klue/ynat"])})
    assert [e.metric for e in items] == ["macro_f1", "accuracy"]  # the primary metric first
    assert all(e.dataset_revision == "0123abcd" and not e.protocol_followed for e in items)
    assert "DEVIATES from the protocol: epochs 1 (protocol: 4)" in items[0].notes and "local copies" not in items[0].notes
    (written, *_) = export.write(items, tmp_path, "eval-results")
    (entry,) = parse_eval_result_entries(yaml.safe_load(written.read_text(encoding="utf-8")))
    assert entry.dataset_revision == "0123abcd"


def test_unknown_model_and_format_are_user_errors(tiny_run, tmp_path):
    output, model_id = tiny_run
    result = bench("export", "--model", "fixture/model-a", "--out", str(tmp_path), "--results", str(output))
    assert result.exit_code == 2 and "no result records of model 'fixture/model-a'" in result.output
    assert model_id in result.output  # says which models it has
    result = bench("export", "--model", model_id, "--format", "yaml", "--out", str(tmp_path), "--results", str(output))
    assert result.exit_code == 2 and "eval-results, model-index, csv, json" in result.output


@pytest.fixture
def hub_server(monkeypatch):
    """huggingface_hub's real client, online, against the Hub's HTTP side on 127.0.0.1 (tests/hubserver.py)."""
    from huggingface_hub import constants

    import hubserver

    server, url, state = hubserver.serve()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the conftest's offline switch, for this test only
    # what HF_ENDPOINT=url sets when huggingface_hub is imported (it was imported before this test)
    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setenv("HF_TOKEN", "hf_fixture")
    yield state
    server.shutdown()


def test_push_sends_every_file_as_one_pull_request(tiny_run, tmp_path, hub_server):
    output, model_id = tiny_run
    result = bench("export", "--model", model_id, "--format", "eval-results", "--out", str(tmp_path),
                   "--results", str(output), "--include-deviations", "--push", "fixture/model-a", "--create-pr")
    assert result.exit_code == 0, result.output
    (commit,) = hub_server.commits
    assert commit["repo"] == "fixture/model-a" and commit["query"] == {"create_pr": ["1"]}
    assert commit["header"]["summary"] == "Add koenbench evaluation results"
    sent = {path: content.decode("utf-8") for path, content in commit["files"].items()}
    local = {f".eval_results/{p.name}": p.read_text(encoding="utf-8") for p in (tmp_path / ".eval_results").glob("*.yaml")}
    assert sent == local and len(sent) == 2  # each task's primary metric
    assert "discussions/1" in result.output


def test_push_merges_the_model_index_into_the_repo_card(tiny_run, tmp_path, hub_server):
    output, model_id = tiny_run
    theirs = ModelCard("---\nlicense: mit\nmodel-index:\n- name: theirs\n  results:\n  - task: {type: fill-mask}\n"
                       "    dataset: {name: Other, type: org/other}\n    metrics:\n    - {type: accuracy, value: 12.5}\n"
                       "---\n# Their model\n\nTheir own words.\n")
    hub_server.files["fixture/model-a"] = {"README.md": str(theirs).encode("utf-8")}
    result = bench("export", "--model", model_id, "--format", "model-index", "--out", str(tmp_path),
                   "--results", str(output), "--include-deviations", "--push", "fixture/model-a")
    assert result.exit_code == 0, result.output
    (commit,) = hub_server.commits
    assert commit["query"] == {} and set(commit["files"]) == {"README.md"}
    assert hub_server.validated == [commit["files"]["README.md"].decode("utf-8")]  # the Hub checks a card's YAML first
    pushed = ModelCard(commit["files"]["README.md"].decode("utf-8"))
    assert "Their own words." in pushed.text and pushed.data.license == "mit"
    datasets = {r.dataset_type for r in pushed.data.eval_results}
    assert "org/other" in datasets and len(datasets) > 1  # theirs kept beside ours
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == commit["files"]["README.md"].decode("utf-8")


def test_push_without_token_or_network_keeps_the_files(tiny_run, tmp_path, monkeypatch):
    output, model_id = tiny_run
    monkeypatch.delenv("HF_TOKEN", raising=False)  # and the run's HF_HOME holds no token file
    args = ["export", "--model", model_id, "--format", "model-index", "--out", str(tmp_path), "--results", str(output),
            "--include-deviations", "--push", "fixture/model-a", "--create-pr"]
    result = bench(*args)
    assert result.exit_code == 2 and "no Hugging Face token" in result.output and "Traceback" not in result.output
    assert (tmp_path / "README.md").exists()
    monkeypatch.setenv("HF_TOKEN", "hf_fixture")  # a token, but HF_HUB_OFFLINE=1: no network
    result = bench(*args)
    assert result.exit_code == 1 and "push failed" in result.output and "Traceback" not in result.output
    assert (tmp_path / "README.md").exists()


def test_leaderboard_downloads_load_into_pandas(tmp_path):
    import pandas as pd

    from harness.site import aggregate

    tasks = aggregate.tasks_frame(spec.load_tasks(["all"]))
    long = pd.DataFrame([  # synthetic scores of two fixture models
        {"model_id": "fixture/model-a", "task_id": t, "metric": tasks.loc[t, "primary"], "mean": 50.0 + i, "std": 0.0, "n_seeds": 1}
        for i, t in enumerate(tasks.index)
    ] + [{"model_id": "fixture/model-b", "task_id": "klue/ynat", "metric": "macro_f1", "mean": 70.0, "std": 0.0, "n_seeds": 1}])
    board = aggregate.leaderboard(long, tasks)
    csv_path, json_path = export.write_leaderboard(board, tasks, tmp_path)
    from_csv, from_json = pd.read_csv(csv_path), pd.read_json(json_path)
    assert list(from_csv["model_id"]) == list(from_json["model_id"]) == ["fixture/model-a", "fixture/model-b"]
    assert from_csv.loc[0, "klue/ynat macro_f1"] == 50.0 + list(tasks.index).index("klue/ynat")
    assert from_csv.loc[1, "tasks overall"] == "1/8" and pd.isna(from_csv.loc[1, "glue/mrpc f1"])
    assert from_json.loc[0, "average overall"] == pytest.approx(50.0 + 3.5)


def test_site_build_links_the_leaderboard_downloads_and_lists_baselines_apart(tiny_run, tmp_path):
    import shutil

    import pandas as pd

    from harness.site.build import build_site

    output, _ = tiny_run
    reports = tmp_path / "reports"
    shutil.copytree(output, reports / "results", ignore=shutil.ignore_patterns(".seeds"))
    index = build_site(reports_dir=reports, out_dir=tmp_path / "site")
    page = index.read_text(encoding="utf-8")
    assert 'href="leaderboard.csv"' in page and 'href="leaderboard.json"' in page
    table = pd.read_csv(index.parent / "leaderboard.csv")
    assert list(table.columns[:2]) == ["rank", "model_id"]
    assert len(pd.read_json(index.parent / "leaderboard.json")) == len(table)
    mrpc = records.read_result(next(output.glob("*/glue__mrpc.json")))
    baselines_part = page[page.index("Baselines (not ranked)"):]
    assert "majority-class" in baselines_part and f"{mrpc.baseline.scores['f1']:.2f}" in baselines_part


SYNTHETIC_SCORES = {"glue/mrpc": {"f1": 80.0, "accuracy": 70.0}, "glue/sst2": {"accuracy": 75.0},
                    "klue/ner": {"entity_f1": 60.0, "char_f1": 70.0}}


def _synthetic_record(protocol, task: str = "glue/mrpc") -> records.ResultRecord:
    """A made-up record of fixture/model-a (MRPC unless ``task``); ``protocol`` None as in files written before records said."""
    scores = SYNTHETIC_SCORES[task]
    seed = records.SeedResult(seed=42, scores=scores, epoch=3, train_s=1.0)
    return records.ResultRecord.from_seeds(
        [seed], model=records.ModelIdentity(id="fixture/model-a", revision="synthetic", source="local"),
        task=records.TaskIdentity(id=task, spec_sha256="s" * 64, primary_metric=next(iter(scores))),
        hyperparameters={}, data=records.DataProvenance(source="local", train_examples=8, validation_examples=8),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True, protocol=protocol)


@pytest.mark.parametrize("fmt", ["json", "model-index"])
def test_a_record_that_does_not_say_whether_it_followed_the_protocol_is_not_exported_as_following_it(tmp_path, fmt):
    results_dir = tmp_path / "results"
    records.write(results_dir / "fixture__model-a" / "glue__mrpc.json", _synthetic_record(protocol=None))
    result = bench("export", "--model", "fixture/model-a", "--format", fmt, "--out", str(tmp_path / "out"),
                   "--results", str(results_dir), "--include-deviations")
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rows = json.loads((tmp_path / "out" / "fixture__model-a.json").read_text(encoding="utf-8"))
        assert [r["metric"] for r in rows] == ["f1", "accuracy"]
        for row in rows:
            assert row["protocol_followed"] is False
            assert "DEVIATES from the protocol: " + export.UNRECORDED_PROTOCOL in row["notes"]
            assert "protocol followed" not in row["notes"]
    else:
        (_, parsed) = model_index_to_eval_results(metadata_load(tmp_path / "out" / "README.md")["model-index"])
        assert [r.metric_name for r in parsed] == ["F1 (%), NOT protocol", "accuracy (%), NOT protocol"]


def test_a_record_that_followed_the_protocol_is_exported_as_following_it():
    followed = _synthetic_record(protocol=records.Protocol(followed=True))
    items = export.entries([followed], {s.id: s for s in spec.load_tasks(["glue/mrpc"])})
    assert [e.protocol_followed for e in items] == [True, True]
    assert all(e.notes.endswith("protocol followed") for e in items)


def test_runs_outside_the_protocol_are_left_out_unless_asked(tiny_run, tmp_path):
    """The tiny run trained one epoch (--set epochs=1): not the protocol, so not a score for the Hub by default."""
    output, model_id = tiny_run
    refused = bench("export", "--model", model_id, "--format", "eval-results", "--out", str(tmp_path / "a"),
                    "--results", str(output))
    assert refused.exit_code == 2 and "--include-deviations" in refused.output and "epochs 1 (protocol: 3)" in refused.output
    assert not (tmp_path / "a").exists()
    protocol_run = _synthetic_record(protocol=records.Protocol(followed=True))
    records.write(output.parent / "mixed" / "fixture__model-a" / "glue__mrpc.json", protocol_run)
    smoke = _synthetic_record(protocol=records.Protocol(followed=False, deviations=["--limit 16"]), task="glue/sst2")
    records.write(output.parent / "mixed" / "fixture__model-a" / "glue__sst2.json", smoke)
    kept = bench("export", "--model", "fixture/model-a", "--format", "json", "--out", str(tmp_path / "b"),
                 "--results", str(output.parent / "mixed"))
    assert kept.exit_code == 0, kept.output
    assert "left out: glue/sst2: did not follow its task's protocol (--limit 16)" in kept.output
    rows = json.loads((tmp_path / "b" / "fixture__model-a.json").read_text(encoding="utf-8"))
    assert {r["task_id"] for r in rows} == {"glue/mrpc"}


def test_the_card_gives_each_metric_of_a_task_its_own_type_and_the_split_as_scored():
    ner = _synthetic_record(protocol=records.Protocol(followed=True), task="klue/ner")
    items = export.entries([ner], {s.id: s for s in spec.load_tasks(["klue/ner"])})
    assert [(e.metric, e.metric_type, e.primary) for e in items] == [("entity_f1", "entity_f1", True),
                                                                     ("char_f1", "char_f1", False)]
    limited = ner.model_copy(update={"data": ner.data.model_copy(update={
        "validation_split": "validation", "note": "--eval-limit 32: the first 32 of 1000 validation rows"})})
    assert {e.dataset_split for e in export.entries([limited], {s.id: s for s in spec.load_tasks(["klue/ner"])})} == \
        {"validation[:32]"}
    carved = ner.model_copy(update={"data": ner.data.model_copy(update={"validation_split": "validation[80%:]"})})
    assert {e.dataset_split for e in export.entries([carved], {s.id: s for s in spec.load_tasks(["klue/ner"])})} == \
        {"validation[80%:]"}


def test_a_local_only_task_is_kept_in_csv_and_left_out_of_the_hub_formats(tmp_path):
    """A user's task with no hub dataset (found with --tasks-dir) never aborts an export."""
    folder = tmp_path / "tasks" / "mine"
    folder.mkdir(parents=True)
    raw = yaml.safe_load((paths.TASKS_DIR / "glue" / "mrpc.yaml").read_text(encoding="utf-8"))
    raw["suite"] = "mine"
    del raw["dataset"]["hub"]
    (folder / "para.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    mine = _synthetic_record(protocol=records.Protocol(followed=True))
    mine = mine.model_copy(update={"task": mine.task.model_copy(update={"id": "mine/para"})})
    results_dir = tmp_path / "results"
    records.write(results_dir / "fixture__model-a" / "mine__para.json", mine)
    records.write(results_dir / "fixture__model-a" / "glue__mrpc.json", _synthetic_record(protocol=records.Protocol(followed=True)))
    common = ["--model", "fixture/model-a", "--results", str(results_dir), "--tasks-dir", str(tmp_path / "tasks")]
    as_csv = bench("export", *common, "--format", "csv", "--out", str(tmp_path / "csv"))
    assert as_csv.exit_code == 0, as_csv.output
    with open(tmp_path / "csv" / "fixture__model-a.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["task_id"], r["dataset_id"]) for r in rows} == {("glue/mrpc", "nyu-mll/glue"), ("mine/para", "local:mine/para")}
    on_hub = bench("export", *common, "--format", "eval-results", "--out", str(tmp_path / "hub"))
    assert on_hub.exit_code == 0, on_hub.output
    assert "left out: mine/para: no hub dataset" in on_hub.output
    assert [p.name for p in (tmp_path / "hub" / ".eval_results").glob("*.yaml")] == ["glue-mrpc-f1.yaml"]
    without = bench("export", "--model", "fixture/model-a", "--results", str(results_dir), "--format", "csv",
                    "--out", str(tmp_path / "x"))
    assert without.exit_code == 2 and "--tasks-dir" in without.output
