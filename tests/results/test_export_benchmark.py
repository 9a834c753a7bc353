"""`bench export`'s links: each value names the record it came from (`source`), and the koenbench benchmark repo
(`--benchmark-repo`, its eval.yaml defining the eight tasks) that `.eval_results` point to (`--benchmark`).

Every file is read back with huggingface_hub's own parsers (parse_eval_result_entries, model_index_to_eval_results,
DatasetCard); the Hub's eval.yaml has no parser in huggingface_hub, so it is read as YAML and held to the keys the
Hub documents (https://huggingface.co/docs/hub/eval-results)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import DatasetCard, metadata_load, parse_eval_result_entries
from huggingface_hub.repocard_data import model_index_to_eval_results
from typer.testing import CliRunner

from harness.cli import app
from harness.core import checked, paths
from harness.results import export, hub_benchmark, records
from harness.tasks import spec

BENCHMARK = "fixture-org/koenbench"  # a neutral id: no such repo is assumed to exist
EVAL_YAML_KEYS = {"name", "description", "evaluation_framework", "tasks"}
EVAL_YAML_TASK_KEYS = {"id", "config", "split"}
SOURCE_URL = "https://example.org/fixture/reports/results/"


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _record(task: str, scores: dict[str, float]) -> records.ResultRecord:
    """A made-up record of fixture/model-a that followed its task's protocol (synthetic)."""
    seed = records.SeedResult(seed=42, scores=scores, epoch=3, train_s=1.0)
    return records.ResultRecord.from_seeds(
        [seed], model=records.ModelIdentity(id="fixture/model-a", revision="synthetic", source="local"),
        task=records.TaskIdentity(id=task, spec_sha256="s" * 64, primary_metric=next(iter(scores))),
        hyperparameters={}, data=records.DataProvenance(source="hub:nyu-mll/glue@0123abcd", hub_revision="0123abcd",
                                                        train_examples=8, validation_examples=8),
        env={}, started_at="2026-11-28T10:00:00Z", wall_s=1.0, synthetic=True, protocol=records.Protocol(followed=True))


@pytest.fixture
def results(tmp_path) -> Path:
    """Two synthetic records of fixture/model-a: MRPC and SST-2."""
    folder = tmp_path / "results"
    records.write(folder / "fixture__model-a" / "glue__mrpc.json", _record("glue/mrpc", {"f1": 80.0, "accuracy": 70.0}))
    records.write(folder / "fixture__model-a" / "glue__sst2.json", _record("glue/sst2", {"accuracy": 75.0}))
    return folder


def _export(results: Path, out: Path, fmt: str, *more: str):
    result = bench("export", "--model", "fixture/model-a", "--results", str(results), "--format", fmt,
                   "--out", str(out), *more)
    assert result.exit_code == 0, result.output
    return result


def _read_eval_results(out: Path) -> dict[str, object]:
    found = {}
    for file in sorted((out / ".eval_results").glob("*.yaml")):
        (entry,) = parse_eval_result_entries(yaml.safe_load(file.read_text(encoding="utf-8")))
        found[file.name] = entry
    return found


def _sha256(path: Path) -> str:
    return checked.sha256_hex(path.read_bytes())


def test_every_value_names_its_record_by_path_and_hash(results, tmp_path):
    """Without --source-url the Hub formats carry no `source` block (its url must be a link, and a path on this
    disk is none); their notes name the record under the results folder and its sha256. CSV and JSON have both."""
    _export(results, tmp_path / "hub", "eval-results")
    for name, entry in _read_eval_results(tmp_path / "hub").items():
        assert entry.source_url is None
        task = name.removesuffix(".yaml").split("-")[1]
        relative = f"fixture__model-a/glue__{task}.json"
        assert f"record {relative} under the results folder (sha256 {_sha256(results / relative)})" in entry.notes
        assert str(tmp_path) not in entry.notes  # never a path of this machine
    _export(results, tmp_path / "csv", "csv")
    with open(tmp_path / "csv" / "fixture__model-a.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3  # MRPC's F1 and accuracy, SST-2's accuracy
    for row in rows:
        assert (results / row["source"]).is_file() and _sha256(results / row["source"]) == row["source_sha256"]
    _export(results, tmp_path / "json", "json")
    from_json = json.loads((tmp_path / "json" / "fixture__model-a.json").read_text(encoding="utf-8"))
    assert [(r["source"], r["source_sha256"]) for r in from_json] == [(r["source"], r["source_sha256"]) for r in rows]


def test_with_a_source_url_every_format_links_the_published_record(results, tmp_path):
    _export(results, tmp_path / "hub", "eval-results", "--source-url", SOURCE_URL)
    urls = {e.source_url for e in _read_eval_results(tmp_path / "hub").values()}
    assert urls == {SOURCE_URL + "fixture__model-a/glue__mrpc.json", SOURCE_URL + "fixture__model-a/glue__sst2.json"}
    _export(results, tmp_path / "card", "model-index", "--source-url", SOURCE_URL.rstrip("/"))  # with or without '/'
    _, parsed = model_index_to_eval_results(metadata_load(tmp_path / "card" / "README.md")["model-index"])
    assert {(r.dataset_config, r.source_url) for r in parsed} == {
        ("mrpc", SOURCE_URL + "fixture__model-a/glue__mrpc.json"), ("sst2", SOURCE_URL + "fixture__model-a/glue__sst2.json")}
    assert {r.source_name for r in parsed} == {"koenbench record"}
    _export(results, tmp_path / "json", "json", "--source-url", SOURCE_URL)
    rows = json.loads((tmp_path / "json" / "fixture__model-a.json").read_text(encoding="utf-8"))
    assert {r["source"] for r in rows} == urls


@pytest.fixture(scope="module")
def benchmark_repo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("benchmark") / "repo"
    result = bench("export", "--benchmark-repo", str(folder), "--benchmark", BENCHMARK)
    assert result.exit_code == 0, result.output
    return folder


def _eval_yaml(folder: Path) -> dict:
    return yaml.safe_load((folder / "eval.yaml").read_text(encoding="utf-8"))


def test_the_benchmark_repo_defines_the_eight_tasks_with_the_keys_the_hub_documents(benchmark_repo):
    data = _eval_yaml(benchmark_repo)
    assert set(data) <= EVAL_YAML_KEYS and {"name", "description", "tasks"} <= set(data)
    assert "evaluation_framework" not in data  # koenbench is not on the Hub's list of frameworks
    builtin = spec.load_tasks(["all"], [paths.TASKS_DIR])
    assert [t["id"] for t in data["tasks"]] == [s.id for s in builtin] and len(builtin) == 8
    for task, found in zip(data["tasks"], builtin):
        assert set(task) == EVAL_YAML_TASK_KEYS
        assert (task["config"], task["split"]) == (found.dataset.hub.name, found.dataset.hub.validation)
    text = (benchmark_repo / "eval.yaml").read_text(encoding="utf-8")
    assert "# YNAT: klue/klue (ynat), validation split; value: macro F1 (%); other metrics: accuracy (%)" in text
    # the copied protocol files are koenbench tasks, the same as the built-in ones, read by koenbench's own loader
    copied = spec.load_tasks(["all"], [benchmark_repo / "tasks"])
    assert [(s.id, s.sha256) for s in copied] == [(s.id, s.sha256) for s in builtin]


def test_the_benchmark_card_is_a_dataset_card_huggingface_hub_reads(benchmark_repo):
    card = DatasetCard.load(benchmark_repo / "README.md")
    assert card.data.pretty_name == "koenbench" and "benchmark" in card.data.tags
    assert sorted(card.data.language) == ["en", "ko"]
    assert set(card.data.task_categories) == {"text-classification", "token-classification"}
    for task in _eval_yaml(benchmark_repo)["tasks"]:
        assert f"| `{task['id']}` |" in card.text and f"(tasks/{task['id']}.yaml)" in card.text
    assert f"--benchmark {BENCHMARK}" in card.text


def test_eval_results_point_at_the_benchmark_and_its_task_ids(results, benchmark_repo, tmp_path):
    _export(results, tmp_path / "hub", "eval-results", "--benchmark", BENCHMARK)
    defined = {t["id"] for t in _eval_yaml(benchmark_repo)["tasks"]}
    entries = _read_eval_results(tmp_path / "hub")
    assert len(entries) == 2
    for entry in entries.values():
        assert entry.dataset_id == BENCHMARK and entry.task_id in defined
        assert entry.dataset_revision is None  # the benchmark repo's revision is not known; the data's is in the notes
        assert "scored on nyu-mll/glue" in entry.notes and "at revision 0123abcd" in entry.notes
    assert {e.task_id for e in entries.values()} == {"glue/mrpc", "glue/sst2"}


def test_a_task_the_benchmark_does_not_define_keeps_its_own_dataset(results, tmp_path):
    folder = tmp_path / "tasks" / "mine"
    folder.mkdir(parents=True)
    raw = yaml.safe_load((paths.TASKS_DIR / "glue" / "mrpc.yaml").read_text(encoding="utf-8"))
    raw["suite"] = "mine"
    (folder / "para.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    records.write(results / "fixture__model-a" / "mine__para.json", _record("mine/para", {"f1": 60.0, "accuracy": 50.0}))
    _export(results, tmp_path / "hub", "eval-results", "--benchmark", BENCHMARK, "--tasks-dir", str(tmp_path / "tasks"))
    entries = _read_eval_results(tmp_path / "hub")
    assert (entries["mine-para-f1.yaml"].dataset_id, entries["mine-para-f1.yaml"].task_id) == ("nyu-mll/glue", "mrpc")
    assert entries["glue-mrpc-f1.yaml"].dataset_id == BENCHMARK
    assert "mine/para" not in hub_benchmark.task_ids()


@pytest.mark.parametrize("args, said", [
    ((), "give --model M --out DIR"),
    (("--benchmark-repo", "{tmp}/b"), "--benchmark-repo needs --benchmark ORG/NAME"),
    (("--benchmark-repo", "{tmp}/b", "--benchmark", "no-owner"), "give the dataset repo as owner/name"),
    (("--benchmark-repo", "{tmp}/b", "--benchmark", "a/b/c"), "--benchmark 'a/b/c'"),
    (("--model", "fixture/model-a", "--out", "{tmp}/o", "--benchmark", BENCHMARK, "--format", "csv"),
     "give --format eval-results"),
    (("--model", "fixture/model-a", "--out", "{tmp}/o", "--source-url", "reports/results"), "http(s) URL"),
    (("--benchmark-repo", "{tmp}/b", "--benchmark", BENCHMARK, "--push", "fixture/model-a"), "hf upload"),
])
def test_export_flags_that_cannot_work_are_named_before_anything_is_written(tmp_path, args, said):
    result = bench("export", *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_benchmark_repo_is_not_written_over_files_of_someone_else(benchmark_repo, tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "README.md").write_text("my own card\n", encoding="utf-8")
    refused = bench("export", "--benchmark-repo", str(folder), "--benchmark", BENCHMARK)
    assert refused.exit_code == 2 and "README.md" in refused.output and "--force" in refused.output
    assert (folder / "README.md").read_text(encoding="utf-8") == "my own card\n" and not (folder / "eval.yaml").exists()
    again = bench("export", "--benchmark-repo", str(benchmark_repo), "--benchmark", BENCHMARK)  # its own files: rewritten
    assert again.exit_code == 0, again.output
