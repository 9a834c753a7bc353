"""harness/run/models.py: a model's revision, source and record folder, whichever way it is named.

Tiny local models only, and the hub is never contacted: a hub model is a tiny model folder
written as a model repo of its own (a fresh ``fixture/model-...`` id) into the test run's real
Hugging Face cache (tests/hubcache.py), which huggingface_hub and transformers read offline.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

import hubcache
from harness.run import models
from harness.run.models import ModelUnavailable, ResolvedModel


@pytest.fixture
def model_copy(tmp_path, tiny_english_bert):
    """A fresh copy of the tiny English BERT that a test may change in place."""

    def copy(relative: str) -> Path:
        target = tmp_path / relative
        shutil.copytree(tiny_english_bert, target)
        return target

    return copy


def write_models_file(tmp_path, entries) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"models": entries}, allow_unicode=True), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Revision: by name and by path, over weights, tokenizer and config
# --------------------------------------------------------------------------------------


def test_a_local_model_named_in_models_yaml_gets_a_content_revision(tmp_path, model_copy, monkeypatch):
    folder = model_copy("work/my-model")
    monkeypatch.chdir(tmp_path / "work")
    models_file = write_models_file(tmp_path, [{"id": "my-model", "name": "fixture model A"}])
    by_name = models.resolve("fixture model A", models_file)
    by_path = models.resolve(str(folder), models_file)
    assert by_name.revision.startswith("sha256:") and by_name.source == "local"
    assert by_name == by_path  # same id, revision and folder, whichever way it was named
    assert by_name.id == "my-model" and by_name.record_dir == by_path.record_dir


def test_replacing_weights_in_place_changes_the_revision_by_name_and_by_path(tmp_path, model_copy, monkeypatch):
    folder = model_copy("work/my-model")
    monkeypatch.chdir(tmp_path / "work")
    models_file = write_models_file(tmp_path, [{"id": "my-model", "name": "fixture model A"}])
    before = models.resolve("fixture model A", models_file)
    weights = folder / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF  # one flipped bit in the last weight
    weights.write_bytes(bytes(raw))
    after_by_name = models.resolve("fixture model A", models_file)
    after_by_path = models.resolve("my-model", models_file)
    assert after_by_name.revision != before.revision
    assert after_by_path.revision == after_by_name.revision
    assert after_by_name.record_dir == before.record_dir  # the same model, rerun: its record is replaced


@pytest.mark.parametrize("changed", ["tokenizer.json", "config.json", "tokenizer_config.json"])
def test_tokenizer_and_config_are_part_of_the_revision(model_copy, changed):
    folder = model_copy("m")
    before = models.local_model(folder).revision
    path = folder / changed
    content = json.loads(path.read_text(encoding="utf-8"))
    if changed == "tokenizer.json":  # one vocabulary piece renamed: another tokenizer, still loadable
        vocab = content["model"]["vocab"]
        vocab["[fixture-piece]"] = vocab.pop("[unused0]")
    else:
        content["fixture_marker"] = 1  # a harmless extra key: a different file, still loadable
    path.write_text(json.dumps(content), encoding="utf-8")
    assert models.local_model(folder).revision != before


def test_files_that_do_not_change_outputs_leave_the_revision_alone(model_copy):
    folder = model_copy("m")
    before = models.local_model(folder).revision
    (folder / "README.md").write_text("notes", encoding="utf-8")
    (folder / "trainer_state.json").write_text("{}", encoding="utf-8")
    assert models.local_model(folder).revision == before


def test_a_folder_without_tokenizer_files_is_refused(model_copy):
    folder = model_copy("no-tokenizer")
    for name in ("tokenizer.json", "vocab.txt", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    assert (folder / "tokenizer_config.json").exists()  # transformers would load a 5-piece tokenizer from this alone
    with pytest.raises(ModelUnavailable, match="no tokenizer vocabulary.*tokenizer.save_pretrained"):
        models.resolve(str(folder))


def test_a_special_tokens_only_tokenizer_is_refused_after_loading(model_copy):
    from transformers import AutoTokenizer

    folder = model_copy("m")
    models.check_vocabulary(AutoTokenizer.from_pretrained(folder), "m")  # the real one passes
    (folder / "tokenizer.json").unlink()
    fallback = AutoTokenizer.from_pretrained(folder)
    assert len(fallback) < 10  # what transformers does silently
    with pytest.raises(ModelUnavailable, match="only special tokens"):
        models.check_vocabulary(fallback, "m")


def test_a_corrupt_tokenizer_file_is_named(model_copy):
    folder = model_copy("m")
    (folder / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "Nope"}}', encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="transformers cannot load its tokenizer"):
        models.local_model(folder)


# --------------------------------------------------------------------------------------
# Record folders: one per model identity
# --------------------------------------------------------------------------------------


def test_two_checkpoints_named_best_get_two_record_folders(model_copy, tmp_path, monkeypatch):
    first, second = model_copy("exp1/checkpoints/best"), model_copy("exp2/checkpoints/best")
    monkeypatch.chdir(tmp_path)
    a, b = models.resolve("exp1/checkpoints/best"), models.resolve("exp2/checkpoints/best")
    assert a.revision == b.revision  # identical files...
    assert a.record_dir != b.record_dir  # ...but two models, two places
    assert a.record_dir.startswith("checkpoints__best-") and b.record_dir.startswith("checkpoints__best-")
    # named from elsewhere by absolute path, the folders stay apart and the ids hold no absolute path
    monkeypatch.chdir(first.parent.parent.parent.parent)
    far_a, far_b = models.resolve(str(first)), models.resolve(str(second))
    assert far_a.record_dir == a.record_dir and far_b.record_dir == b.record_dir
    monkeypatch.chdir("/")  # every folder is inside the root: still no absolute path, and still two models
    root_a, root_b = models.resolve(str(first)).id, models.resolve(str(second)).id
    assert re.fullmatch(r"\.\.\./checkpoints/best@[0-9a-f]{8}", root_a) and root_a != root_b


def test_hub_ids_get_distinct_readable_folders():
    assert models.hub_dir_name("respect5716/koenbert-base") == "respect5716__koenbert-base"
    assert models.hub_dir_name("bert-base-uncased") == "bert-base-uncased"
    plus, minus = models.hub_dir_name("org/bert+base"), models.hub_dir_name("org/bert-base")
    assert plus != minus and plus.startswith("org__bert-base-")
    assert models.hub_dir_name("a/b_c") != models.hub_dir_name("a_b/c")
    assert models.hub_dir_name("a__b/c") != models.hub_dir_name("a/b__c")


def test_korean_names_stay_readable_and_distinct(model_copy, tmp_path, monkeypatch):
    model_copy("한국어모델")
    model_copy("영어모델")
    monkeypatch.chdir(tmp_path)
    ko, en = models.resolve("한국어모델"), models.resolve("영어모델")
    assert ko.record_dir.startswith("한국어모델-") and en.record_dir.startswith("영어모델-")
    assert ko.record_dir != en.record_dir
    assert models.hub_dir_name("org/한국어") != models.hub_dir_name("org/영어")


@pytest.mark.parametrize("model_id", ["../../etc", "a/../../b", ".", "..", "/abs/path", "x" * 500, "a\\b", "<script>"])
def test_record_folder_is_one_safe_path_part(model_id):
    for name in (models.hub_dir_name(model_id), models.local_dir_name(model_id, Path("/tmp"))):
        assert "/" not in name and "\\" not in name and not name.startswith(".") and 0 < len(name) <= 80
        assert "<" not in name


def test_conflict_names_the_other_model():
    model = ResolvedModel(id="fixture/model-a", path="fixture/model-a", revision="abc", source="hub")
    assert model.conflict({"id": "fixture/model-a", "revision": "older", "source": "hub"}, "x") is None
    assert model.conflict({"id": "fixture/model-a", "revision": "older"}, "x") is None  # records before sources
    message = model.conflict({"id": "fixture/model+a", "source": "hub"}, "fixture__model-a-123")
    assert "fixture/model+a" in message and "refusing" in message
    assert model.conflict({"id": "fixture/model-a", "source": "local"}, "x") is not None


def test_as_record_carries_the_source():
    model = ResolvedModel(id="fixture/model-a", path="fixture/model-a", revision="0" * 40)
    assert model.as_record() == {"id": "fixture/model-a", "revision": "0" * 40, "source": "hub"}


def test_a_missing_path_is_not_sent_to_the_hub(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelUnavailable, match="no such model folder"):
        models.resolve("./runs/missing")
    (tmp_path / "weights.safetensors").write_bytes(b"")
    with pytest.raises(ModelUnavailable, match=r"--model './weights.safetensors': a file, not a model folder"):
        models.resolve("./weights.safetensors")


# --------------------------------------------------------------------------------------
# Hub models: one commit of the Hugging Face cache, read offline
# --------------------------------------------------------------------------------------

NO_MODELS_FILE = Path("/nonexistent/models.yaml")
CACHE_SHOWN = "HF_HUB_CACHE=.../hf-home/hub"  # tests/conftest.py's cache, as a message names it: no absolute path
MODEL_FILES = ("--include 'config.json' 'model*.safetensors' 'model.safetensors.index.json' 'tokenizer.json' 'vocab.txt' "
               "'vocab.json' '*.model' 'tokenizer_config.json' 'special_tokens_map.json' 'added_tokens.json' 'merges.txt'")
LOCAL_HINT = "\nOr pass a local folder: --model DIR (check the id against `bench models`)."


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """Run from the test's own folder, where no folder shadows a hub id."""
    monkeypatch.chdir(tmp_path)


def publish(folder: Path, repo: str, salt: str = "") -> str:
    """A model folder as a new commit of ``repo`` in the test run's hub cache; refs/main then names it."""
    return hubcache.write_model(hubcache.cache(), repo, folder, salt=salt)


def snapshot_folder(repo: str, commit: str) -> Path:
    return hubcache.repo_folder(hubcache.cache(), repo, "model") / "snapshots" / commit


def marked(folder: Path, marker: int) -> Path:
    """The folder with ``marker`` in its config.json: a different commit whose files tell it apart."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "fixture_marker": marker}), encoding="utf-8")
    return folder


def test_a_hub_model_is_its_cached_snapshot_and_its_commit(tiny_english_bert, hub_dir):
    repo = hubcache.fresh_repo_id("fixture/model")
    commit = publish(tiny_english_bert, repo)
    resolved = models.resolve(repo, NO_MODELS_FILE)
    assert (resolved.id, resolved.revision, resolved.source) == (repo, commit, "hub")
    assert resolved.record_dir == repo.replace("/", "__")
    assert resolved.as_record() == {"id": repo, "revision": commit, "source": "hub"}
    assert Path(resolved.path) == snapshot_folder(repo, commit)  # what every later load reads
    assert (Path(resolved.path) / "model.safetensors").read_bytes() == (tiny_english_bert / "model.safetensors").read_bytes()


def test_revision_selects_a_branch_a_tag_or_a_commit(model_copy, tmp_path, hub_dir):
    from transformers import AutoConfig

    repo = hubcache.fresh_repo_id("fixture/model")
    first = publish(marked(model_copy("first"), 1), repo)
    hubcache.point(hubcache.cache(), repo, "model", first, "v1.0")  # a tag, as the cache keeps one: refs/v1.0
    second = publish(marked(model_copy("second"), 2), repo)  # main moves on
    hubcache.point(hubcache.cache(), repo, "model", second, "dev")
    for revision, commit, marker in [(None, second, 2), ("main", second, 2), ("dev", second, 2), ("v1.0", first, 1), (first, first, 1)]:
        resolved = models.resolve(repo, NO_MODELS_FILE, revision=revision)
        assert (resolved.revision, resolved.path) == (commit, str(snapshot_folder(repo, commit))), revision
        assert AutoConfig.from_pretrained(resolved.path).fixture_marker == marker  # transformers reads that commit's files
        assert resolved.record_dir == repo.replace("/", "__")  # one model, whichever revision: its record is replaced
    models_file = write_models_file(tmp_path, [{"id": repo, "name": "fixture model pinned", "revision": "v1.0"}])
    assert models.resolve("fixture model pinned", models_file).revision == first  # models.yaml pins a revision...
    assert models.resolve("fixture model pinned", models_file, revision="main").revision == second  # ...--revision wins


def test_a_hub_model_not_in_the_cache_offline_says_how_to_download_it(hub_dir):
    repo = hubcache.fresh_repo_id("fixture/model")  # never written; tests/conftest.py sets HF_HUB_OFFLINE=1
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE)
    assert str(err.value) == (
        f"model '{repo}': not in the Hugging Face cache ({CACHE_SHOWN}) and the hub cannot be reached (offline or no network). "
        f"Download it once where the network is, into the same cache (HF_HOME): hf download {repo} {MODEL_FILES}{LOCAL_HINT}"
    )


@pytest.mark.parametrize("revision", ["v9", "e" * 40])
def test_a_revision_the_cache_does_not_hold_is_named_with_its_download(tiny_english_bert, hub_dir, revision):
    repo = hubcache.fresh_repo_id("fixture/model")
    publish(tiny_english_bert, repo)  # main is there; the asked branch, tag or commit is not
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE, revision=revision)
    assert str(err.value) == (
        f"model '{repo}' at revision '{revision}': not in the Hugging Face cache ({CACHE_SHOWN}) and the hub cannot be "
        f"reached (offline or no network). Download it once where the network is, into the same cache (HF_HOME): "
        f"hf download {repo} --revision {revision} {MODEL_FILES}{LOCAL_HINT}"
    )


def test_a_cached_snapshot_without_weights_is_refused_naming_them(model_copy, hub_dir):
    """A snapshot folder copied without its weights (no file listing beside it: nothing tells huggingface_hub)."""
    folder = model_copy("no-weights")
    (folder / "model.safetensors").unlink()
    repo = hubcache.fresh_repo_id("fixture/model")
    commit = publish(folder, repo)
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE)
    assert str(err.value) == (
        f"model '{repo}' ({repo}@{commit[:12]}): the cached snapshot holds no weights (model.safetensors or "
        f"pytorch_model.bin); download them where the network is: hf download {repo} --revision {commit} "
        "--include 'model*.safetensors' 'model.safetensors.index.json' 'pytorch_model*.bin' 'pytorch_model.bin.index.json'"
    )


def test_a_partial_download_is_refused_naming_the_missing_weights(tiny_english_bert, hub_dir):
    """A download that left out the weights (interrupted, or limited with --include). huggingface_hub 2 keeps the
    commit's file listing beside the snapshot and tells, offline, which files the snapshot misses; older ones keep
    none, and the snapshot is then refused for its lack of weights."""
    repo = hubcache.fresh_repo_id("fixture/model")
    commit = publish(tiny_english_bert, repo)
    listed = hubcache.write_listing(hubcache.cache(), repo, "model", commit, hubcache.folder_files(tiny_english_bert))
    (snapshot_folder(repo, commit) / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE)
    message = str(err.value)
    if listed:
        assert message.startswith(f"model '{repo}': the cached copy is incomplete (")
        assert f"(revision 'main', commit {commit}) is incomplete: 1 file(s) are missing (model.safetensors)" in message
        assert message.endswith(f"; complete it where the network is: hf download {repo} {MODEL_FILES}{LOCAL_HINT}")
    else:
        assert message.startswith(f"model '{repo}' ({repo}@{commit[:12]}): the cached snapshot holds no weights (")


def test_a_hub_model_without_an_org(tiny_english_bert, hub_dir):
    repo = hubcache.fresh_repo_id("fixture-model-noorg")  # one part, as 'bert-base-uncased'
    commit = publish(tiny_english_bert, repo)
    resolved = models.resolve(repo, NO_MODELS_FILE)
    assert (resolved.id, resolved.revision, resolved.source, resolved.record_dir) == (repo, commit, "hub", repo)
    assert resolved.path == str(hubcache.cache() / f"models--{repo}" / "snapshots" / commit)


def test_a_hub_model_whose_tokenizer_is_only_special_tokens_is_refused(model_copy, hub_dir):
    """A vocabulary file of special tokens only: found when the model is resolved, before any training."""
    folder = model_copy("m")
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", encoding="utf-8")
    repo = hubcache.fresh_repo_id("fixture/model")
    commit = publish(folder, repo)
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE)
    assert str(err.value) == (f"model '{repo}' ({repo}@{commit[:12]}): its tokenizer has 5 pieces, only special tokens; "
                              "the vocabulary files are missing, so every word would become [UNK]. Add the tokenizer's files.")


def test_a_hub_model_without_vocabulary_files_is_refused(model_copy, hub_dir):
    folder = model_copy("m")
    (folder / "tokenizer.json").unlink()
    assert (folder / "tokenizer_config.json").exists()  # transformers would load a 5-piece tokenizer from this alone
    repo = hubcache.fresh_repo_id("fixture/model")
    commit = publish(folder, repo)
    with pytest.raises(ModelUnavailable) as err:
        models.resolve(repo, NO_MODELS_FILE)
    assert str(err.value).startswith(f"model '{repo}' ({repo}@{commit[:12]}): no tokenizer vocabulary (tokenizer.json, vocab.txt")


# --------------------------------------------------------------------------------------
# Broken files name themselves
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ("models: [\n  - id: a\n  name: [", r"models.yaml: not valid YAML at line \d+, column \d+"),
        ("models:\n  - id: fixture/model-a\n    name: 123\n", r"models.yaml: invalid model list\n  models\[0\].name: Input should be a valid string"),
        ("models: {id: fixture/model-a}\n", r"models.yaml: invalid model list\n  models: Input should be a valid list"),
        ("- id: fixture/model-a\n", r"models.yaml: expected a mapping with a top-level 'models:' list"),
        ("models:\n  - name: no id\n", r"models\[0\].id: required field is missing"),
        ("models:\n  - id: a\n  - id: a\n", r"models\[1\].id: 'a' is listed twice \(also models\[0\]\)"),
        ("models:\n  - id: a\n    nmae: typo\n", r"models\[0\].nmae: unknown field"),
        (b"models:\n  - id: \xff\xfe\n", r"models.yaml: not UTF-8 text \(byte 0xff at offset \d+\)"),
    ],
)
def test_malformed_models_yaml_names_file_and_field(tmp_path, content, message):
    path = tmp_path / "models.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelUnavailable, match=message):
        models.resolve("fixture/model-a", path)


def test_models_yaml_errors_do_not_quote_the_file(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - id: fixture/model-a\n    secret: SECRET-LINE-CONTENT [\n", encoding="utf-8")
    with pytest.raises(ModelUnavailable) as err:
        models.resolve("fixture/model-a", path)
    assert "SECRET-LINE-CONTENT" not in str(err.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"model_type": "bert", "hidden_size": 3', r"config.json: not valid JSON at line 1, column \d+"),
        ("[1, 2]", r"config.json: expected a JSON object"),
        ('{"model_type": "no-such-architecture"}', r"config.json: transformers cannot read this model config"),
    ],
)
def test_broken_config_json_names_the_file(model_copy, content, message):
    folder = model_copy("broken")
    (folder / "config.json").write_text(content, encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=message):
        models.resolve(str(folder))


def test_the_repository_models_yaml_is_valid():
    entries = models.load_model_entries()
    assert entries and all(e.name for e in entries)


def test_bench_models_shows_names_as_written_and_names_a_broken_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.core import paths

    monkeypatch.setattr(paths, "MODELS_FILE", write_models_file(tmp_path, [{"id": "fixture/model-a", "name": "[bold]model[/x] A"}]))
    shown = CliRunner().invoke(app, ["models"])
    assert shown.exit_code == 0 and "[bold]model[/x] A" in shown.output  # printed as written, not read as markup
    paths.MODELS_FILE.write_text("models:\n  - id: fixture/model-a\n    name: [/x]\n", encoding="utf-8")
    failed = CliRunner().invoke(app, ["models"])
    assert failed.exit_code == 2 and "models.yaml: invalid model list" in failed.output and "models[0].name" in failed.output


def test_a_weight_swap_reruns_whichever_way_the_model_is_named(tmp_path, model_copy, monkeypatch):
    """By name, swap the weights in place, by path: a rerun with the new revision; by name again: the same record."""
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.core import paths

    folder = model_copy("work/my-model")
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(paths, "MODELS_FILE", write_models_file(tmp_path, [{"id": "my-model", "name": "fixture-model-a"}]))
    output = tmp_path / "results"

    def run(model):
        args = ["run", "--model", model, "--data-dir", str(paths.SAMPLES_DIR), "--tasks", "glue/sst2", "--set", "epochs=1",
                "--limit", "16", "--eval-limit", "16", "--output", str(output)]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        [record] = [json.loads(p.read_text(encoding="utf-8")) for p in output.glob("*/glue__sst2.json")]
        return result.output, record

    _, first = run("fixture-model-a")
    weights = folder / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF
    weights.write_bytes(bytes(raw))
    second_output, second = run(str(folder))
    assert "skipped" not in second_output and second["model"]["revision"] != first["model"]["revision"]
    assert second["model"]["id"] == first["model"]["id"] == "my-model"
    third_output, third = run("fixture-model-a")
    assert "skipped" in third_output and third["model"]["revision"] == second["model"]["revision"]


def test_a_models_yaml_folder_id_is_found_beside_the_file(tmp_path, model_copy, monkeypatch):
    model_copy("catalog/models/my-model")
    models_file = write_models_file(tmp_path / "catalog", [{"id": "models/my-model", "name": "fixture-model-a"}])
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    resolved = models.resolve("fixture-model-a", models_file)
    assert (resolved.id, resolved.source) == ("models/my-model", "local") and resolved.revision.startswith("sha256:")


def test_a_display_name_two_entries_share_is_refused_only_when_used(tmp_path):
    path = write_models_file(tmp_path, [{"id": "fixture/model-a", "name": "same"}, {"id": "fixture/model-b", "name": "same"}])
    assert [e.id for e in models.load_model_entries(path)] == ["fixture/model-a", "fixture/model-b"]
    with pytest.raises(ModelUnavailable, match=r"--model 'same' matches 2 entries .*pass one of their ids"):
        models.resolve("same", path)


def test_two_checkpoints_named_best_write_two_records(tmp_path, model_copy, monkeypatch):
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.core import paths

    for experiment in ("exp1", "exp2"):
        model_copy(f"{experiment}/checkpoints/best")
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "results"
    for experiment in ("exp1", "exp2"):
        args = ["run", "--model", f"{experiment}/checkpoints/best", "--data-dir", str(paths.SAMPLES_DIR), "--tasks", "glue/sst2",
                "--set", "epochs=1", "--limit", "16", "--eval-limit", "16", "--output", str(output)]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0 and "skipped" not in result.output, result.output
    found = sorted(json.loads(p.read_text(encoding="utf-8"))["model"]["id"] for p in output.glob("*/glue__sst2.json"))
    assert found == ["exp1/checkpoints/best", "exp2/checkpoints/best"]
