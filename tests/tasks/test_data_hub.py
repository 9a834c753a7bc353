"""harness/tasks/data's hub path, offline: what a hub dataset yields and what a user is told when it cannot.

Every dataset here is synthetic. A test that loads from the hub first publishes its splits as a
dataset repo of its own (a fresh ``fixture/hub-...`` id) into the test run's real Hugging Face
cache (tests/hubcache.py: parquet files, a card whose ``configs:`` names them, refs/main), and
huggingface_hub and ``datasets`` then read that repo offline with their own code. The task files
are written per test as tasks/fixture/hub-a.yaml.
"""

import hashlib
import json
from pathlib import Path
from typing import Optional

import datasets
import pytest
import yaml
from datasets import ClassLabel, Dataset, DatasetDict, Features, Json, List, Value

import hubcache
from harness.tasks import carving, data
from harness.tasks.data import DataError, DataUnavailable, hub_source
from harness.tasks.spec import load_spec

LABELS = ["alpha", "beta", "gamma"]  # the task's order
HUB_ORDER = ["gamma", "alpha", "beta"]  # the fixture hub's ClassLabel order: labels map by name, not position
COLUMNS = {"text_a": "sentence", "label": "label"}
CACHE_SHOWN = "HF_HUB_CACHE=.../hf-home/hub"  # tests/conftest.py's cache, as a message names it: no absolute path


def hub_split(prefix, n, labels=None):
    """``n`` synthetic rows 'prefix 0'.., hub labels cycling 0, 1, 2 unless given."""
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=HUB_ORDER)})
    labels = [i % 3 for i in range(n)] if labels is None else labels
    return Dataset.from_dict({"sentence": [f"{prefix} {i}" for i in range(n)], "label": labels}, features=features)


def plain_splits():
    return {"train": hub_split("train text", 12), "validation": hub_split("held-out text", 6)}


class Hub:
    """One dataset repo of one test in the real hub cache; ``publish`` pushes a commit to it."""

    def __init__(self, repo: str):
        self.repo = repo
        self.name = f"{repo}/config-a"  # how messages and notes name the task's default config

    def publish(self, splits: Optional[dict] = None, config: Optional[str] = "config-a", revision: str = "main",
                salt: str = "") -> str:
        """``splits`` (default: 12 train rows, 6 validation rows) as the one config of a new commit, which the
        branch or tag ``revision`` then names (what `hf download` leaves after a push). Returns the commit."""
        dataset = DatasetDict(plain_splits() if splits is None else splits)
        return hubcache.write_dataset(hubcache.cache(), self.repo, {config: dataset}, salt=salt, ref=revision)

    def point(self, commit: str, ref: str = "main") -> None:
        """Move the branch ``ref`` to ``commit``, as a later download after a push does."""
        hubcache.point(hubcache.cache(), self.repo, "dataset", commit, ref)


@pytest.fixture
def hub():
    """A dataset repo of this test's own (nothing in the cache yet): publish to it before loading."""
    return Hub(hubcache.fresh_repo_id("fixture/hub"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder holding tasks/, with the shared data beside it (../shared/data), as in a clone."""
    folder = tmp_path / "project"
    folder.mkdir()
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.setattr(hub_source, "SHARED_DATA", shared)
    return folder


def write_task(folder, hub=None, local=None, labels=LABELS, head="sequence-classification", repo="fixture/hub-a"):
    """A synthetic task file tasks/fixture/hub-a.yaml with the given dataset sources; ``repo``: the hub dataset's id."""
    dataset = {"labels": labels} if labels else {}
    if hub is not None:
        dataset["hub"] = {"path": repo, "name": "config-a", "columns": COLUMNS, **hub}
    if local is not None:
        dataset["local"] = local
    raw = {
        "name": "Fixture hub A",
        "suite": "fixture",
        "language": "en",
        "description": "synthetic task for the hub loader's tests",
        "dataset": dataset,
        "head": head,
        "metrics": {"primary": {"sequence-classification": "accuracy", "regression": "pearson"}.get(head, "entity_f1")},
        "hyperparameters": {"learning_rate": 1e-4, "batch_size": 2, "epochs": 1, "max_length": 16},
    }
    path = Path(folder) / "tasks" / "fixture" / "hub-a.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_spec(path, known={})


LOCAL = {
    "files": {
        "train": {"path": "fixture/train.csv", "format": "csv", "columns": {"text_a": "sentence", "label": "label"}},
        "validation": {"path": "fixture/dev.csv", "format": "csv", "columns": {"text_a": "sentence", "label": "label"}},
    }
}
LOCAL_LIST = "train -> fixture/train.csv, validation -> fixture/dev.csv"
SHARED_HINT = " (e.g. the KLUE/GLUE files of ../shared/data: --data-dir ../shared/data)"


def rows(dataset):
    return [(row["text_a"], LABELS[row["label"]]) for row in dataset]


# --------------------------------------------------------------------------------------
# What a hub dataset yields
# --------------------------------------------------------------------------------------


def test_hub_rows_labels_splits_and_revision(project, hub):
    commit = hub.publish()
    spec = write_task(project, hub={"train": "train[2:8]", "validation": "validation[:50%]"}, repo=hub.repo)
    loaded = data.load(spec, warn=pytest.fail)
    assert rows(loaded.dataset["train"]) == [(f"train text {i}", HUB_ORDER[i % 3]) for i in range(2, 8)]
    assert rows(loaded.dataset["validation"]) == [("held-out text 0", "gamma"), ("held-out text 1", "alpha"), ("held-out text 2", "beta")]
    assert loaded.splits == ("train[2:8]", "validation[:50%]")
    assert (loaded.source, loaded.hub_revision, loaded.files) == (f"hub:{hub.name}@{commit}", commit, ())
    assert (loaded.train_examples, loaded.validation_examples, loaded.carved) == (6, 3, False)
    assert loaded.note == f"train = train[2:8] of {hub.name}; scored on validation[:50%]"
    assert loaded.label_counts == {"train": {"alpha": 2, "beta": 2, "gamma": 2}, "validation": {"alpha": 1, "beta": 1, "gamma": 1}}
    assert loaded.warnings == ()  # train[2:8] and validation[:50%] are different splits: no rows shared


def test_the_plain_splits_of_a_dataset_without_config(project, hub):
    commit = hub.publish(config=None)  # the card's one config, 'default', files under data/
    loaded = data.load(write_task(project, hub={"name": None}, repo=hub.repo))
    assert loaded.source == f"hub:{hub.repo}@{commit}" and loaded.splits == ("train", "validation")
    assert (loaded.train_examples, loaded.validation_examples, loaded.note) == (12, 6, None)
    assert loaded.dataset["validation"]["text_a"] == [f"held-out text {i}" for i in range(6)]


@pytest.mark.parametrize("pin", ["v1.0", "release"])  # a tag and a branch: both are refs/<name> in the cache
def test_a_pinned_branch_or_tag_is_read_at_the_commit_it_names(project, hub, pin):
    pinned = hub.publish({"train": hub_split("pinned train", 12), "validation": hub_split("pinned held-out", 6)}, revision=pin)
    main = hub.publish()
    assert pinned != main
    loaded = data.load(write_task(project, hub={"revision": pin}, repo=hub.repo))
    assert (loaded.hub_revision, loaded.source) == (pinned, f"hub:{hub.name}@{pinned}")
    assert loaded.dataset["train"]["text_a"][:2] == ["pinned train 0", "pinned train 1"]
    unpinned = data.load(write_task(project, hub={}, repo=hub.repo))
    assert (unpinned.hub_revision, unpinned.source) == (main, f"hub:{hub.name}@{main}")
    assert unpinned.dataset["train"]["text_a"][:2] == ["train text 0", "train text 1"]
    assert unpinned.fingerprint != loaded.fingerprint


def test_a_branch_moved_to_a_new_commit_is_read_at_that_commit(project, hub):
    first = hub.publish()
    second = hub.publish({"train": hub_split("pushed train", 9), "validation": hub_split("pushed held-out", 3)}, revision="next")
    spec = write_task(project, hub={}, repo=hub.repo)
    before = data.load(spec)
    assert (before.hub_revision, before.train_examples) == (first, 12)  # main still names the first commit
    hub.point(second)  # a download after the push moves refs/main
    after = data.load(spec)
    assert (after.hub_revision, after.source) == (second, f"hub:{hub.name}@{second}")
    assert (after.train_examples, after.validation_examples) == (9, 3)
    assert after.dataset["validation"]["text_a"] == ["pushed held-out 0", "pushed held-out 1", "pushed held-out 2"]
    assert after.fingerprint != before.fingerprint


def test_a_pinned_commit_is_read_after_main_moved_on(project, hub):
    first = hub.publish()
    pinned = write_task(project, hub={"revision": first}, repo=hub.repo)
    second = hub.publish({"train": hub_split("pushed train", 9), "validation": hub_split("pushed held-out", 3)})
    assert second != first
    loaded = data.load(pinned)
    assert (loaded.hub_revision, loaded.source) == (first, f"hub:{hub.name}@{first}")
    assert (loaded.train_examples, loaded.validation_examples) == (12, 6)
    assert loaded.dataset["train"]["text_a"] == [f"train text {i}" for i in range(12)]
    assert data.load(write_task(project, hub={}, repo=hub.repo)).hub_revision == second


def test_train_and_eval_from_one_split_are_warned(project, hub):
    hub.publish()
    spec = write_task(project, hub={}, repo=hub.repo)
    warned = []
    loaded = data.load(spec, train_split="validation", eval_split="validation[:50%]", warn=warned.append)
    assert loaded.splits == ("validation", "validation[:50%]") and not loaded.carved
    assert loaded.warnings == (
        "train (validation) and the scored split (validation[:50%]) share 3 rows",
        "3 of 3 scored rows (validation[:50%]) also appear in train with the same text; the score partly measures memory",
    )
    assert warned == [f"{spec.id}: {w}" for w in loaded.warnings]  # printed with the task it concerns
    disjoint = data.load(spec, train_split="validation[:50%]", eval_split="validation[50%:]", warn=pytest.fail)
    assert disjoint.warnings == ()
    assert disjoint.note == f"train = validation[:50%] of {hub.name}; scored on validation[50%:]"


def test_a_spec_carve_of_one_hub_split(project, hub):
    hub.publish({"validation": hub_split("held-out text", 12)})
    spec = write_task(project, hub={"train": "validation[:50%]", "validation": "validation[50%:]"}, repo=hub.repo)
    loaded = data.load(spec, warn=pytest.fail)
    assert loaded.carved and loaded.splits == ("validation[:50%]", "validation[50%:]")
    assert loaded.note == (f"train = validation[:50%] of {hub.name}; scored on validation[50%:] "
                           "(stratified by label, after a seeded shuffle: stratified shuffle v1, seed 0)")
    train, scored = (rows(loaded.dataset[side]) for side in ("train", "validation"))
    assert sorted(train + scored) == sorted((f"held-out text {i}", HUB_ORDER[i % 3]) for i in range(12))
    assert loaded.label_counts == {"train": {"alpha": 2, "beta": 2, "gamma": 2}, "validation": {"alpha": 2, "beta": 2, "gamma": 2}}
    # a user's --train-split alone already means file order for both sides, not the spec's carve
    user = data.load(spec, train_split="validation[:50%]", warn=pytest.fail)
    assert not user.carved
    assert [text for text, _ in rows(user.dataset["validation"])] == [f"held-out text {i}" for i in range(6, 12)]


# --------------------------------------------------------------------------------------
# Columns: nested, dotted, ClassLabel or not
# --------------------------------------------------------------------------------------


def test_a_label_two_structs_deep_maps_through_its_class_label(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold.label"}})
    # 'm' is a struct too: the path is cut at its dots only, never inside a name
    features = Features({"sentence": Value("string"), "m": {"x": Value("int64")},
                         "meta": {"gold": {"label": ClassLabel(names=HUB_ORDER)}, "note": Value("string")}})
    hub_rows = {"sentence": ["s0", "s1", "s2"], "m": [{"x": 0}] * 3, "meta": [{"gold": {"label": i}, "note": "n"} for i in (2, 0, 1)]}
    ds = data.from_hub_dataset(Dataset.from_dict(hub_rows, features=features), spec)
    assert rows(ds) == [("s0", "beta"), ("s1", "gamma"), ("s2", "alpha")]


def test_a_column_whose_name_holds_a_dot_wins_over_nesting(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "gold.label"}})
    features = Features({"sentence": Value("string"), "gold.label": ClassLabel(names=HUB_ORDER)})
    ds = data.from_hub_dataset(Dataset.from_dict({"sentence": ["s0", "s1"], "gold.label": [1, 0]}, features=features), spec)
    assert rows(ds) == [("s0", "alpha"), ("s1", "gamma")]


def test_a_struct_field_whose_name_holds_a_dot_keeps_its_class_label(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold.label"}})
    features = Features({"sentence": Value("string"), "meta": {"gold.label": ClassLabel(names=HUB_ORDER), "gold": {"x": Value("int64")}}})
    hub_rows = {"sentence": ["s0", "s1"], "meta": [{"gold.label": 2, "gold": {"x": 0}}, {"gold.label": 0, "gold": {"x": 1}}]}
    ds = data.from_hub_dataset(Dataset.from_dict(hub_rows, features=features), spec)
    assert rows(ds) == [("s0", "beta"), ("s1", "gamma")]


def test_a_label_inside_a_json_column_is_read_by_name(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold"}})
    features = Features({"sentence": Value("string"), "meta": Json()})
    hub_rows = {"sentence": ["s0", "s1"], "meta": [{"gold": "gamma"}, {"gold": "alpha"}]}
    ds = data.from_hub_dataset(Dataset.from_dict(hub_rows, features=features), spec)
    assert rows(ds) == [("s0", "gamma"), ("s1", "alpha")]


# --------------------------------------------------------------------------------------
# What a user is told: the dataset, the field, the fix
# --------------------------------------------------------------------------------------


def test_no_hub_source_lists_the_local_files(project):
    spec = write_task(project, local=LOCAL)
    with pytest.raises(DataError) as err:
        data.load(spec)
    assert str(err.value) == (
        "task fixture/hub-a has no hub source (tasks/fixture/hub-a.yaml: dataset.hub); "
        f"pass --data-dir DIR with its local files: {LOCAL_LIST}{SHARED_HINT}"
    )


def test_a_missing_split_names_what_the_dataset_has(project, hub):
    hub.publish()
    spec = write_task(project, hub={}, repo=hub.repo)
    with pytest.raises(DataError) as err:
        data.load(spec, eval_split="test[:10]")
    assert str(err.value) == f"{hub.name} has no split 'test' (asked for 'test[:10]'); it has train, validation"


@pytest.mark.parametrize("column", ["premise", "premise.text", "sentence."])
def test_a_missing_column_names_the_columns_there_are(project, column):
    spec = write_task(project, hub={"columns": {"text_a": column, "label": "label"}})
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub_split("s", 2), spec)
    assert str(err.value) == f"hub dataset: no column {column!r}; it has sentence, label (fix dataset.hub.columns)"


@pytest.mark.parametrize("hub_spec, where", [({}, "train"), ({"train": "validation[:50%]", "validation": "validation[50%:]"}, "validation")])
def test_a_column_the_hub_dataset_lacks_names_the_dataset_and_the_spec_field(project, hub, hub_spec, where):
    hub.publish()
    spec = write_task(project, hub={**hub_spec, "columns": {"text_a": "premise", "label": "label"}}, repo=hub.repo)
    with pytest.raises(DataError) as err:
        data.load(spec)
    assert not isinstance(err.value, DataUnavailable)  # the spec is wrong, not the cache
    assert str(err.value) == f"{hub.name} {where}: no column 'premise'; it has sentence, label (fix dataset.hub.columns)"


def test_a_missing_nested_field_names_the_row(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold"}})
    features = Features({"sentence": Value("string"), "meta": {"gold": Value("string")}})
    hub_rows = Dataset.from_dict({"sentence": ["s0", "s1"], "meta": [{"gold": "alpha"}, None]}, features=features)
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub_rows, spec, where="fixture/hub-a/config-a train")
    assert str(err.value) == ("fixture/hub-a/config-a train, row 1: no column 'gold'; the row has: no columns "
                              "(a JSON NoneType, not an object) (fix the spec's columns mapping)")


def test_a_label_that_is_no_class_names_the_dataset_and_row(project):
    spec = write_task(project, hub={})
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub_split("s", 3, labels=[0, 1, -1]), spec, where="fixture/hub-a/config-a test")
    assert str(err.value) == (
        "fixture/hub-a/config-a test, row 2: label -1 is not a class of this dataset (a split without gold labels, "
        "such as a test split?); its classes are ['gamma', 'alpha', 'beta']"
    )


@pytest.mark.parametrize(
    "hub_spec, split, where",
    [
        ({"train": "train[1:4]"}, "train", "train[1:4], row 1"),  # row 2 of the split, 1 of the slice
        ({"validation": "validation[1:4]"}, "validation", "validation[1:4], row 1"),
        ({"train": "validation[:50%]", "validation": "validation[50%:]"}, "validation", "validation, row 2"),
    ],
)
def test_a_bad_label_names_the_split_expression_it_was_read_for(project, hub, hub_spec, split, where):
    hub.publish({**plain_splits(), split: hub_split("s", 6, labels=[0, 1, -1, 0, 1, 2])})  # -1: ClassLabel's "no label"
    with pytest.raises(DataError) as err:
        data.load(write_task(project, hub=hub_spec, repo=hub.repo))
    assert str(err.value).startswith(f"{hub.name} {where}: label -1 is not a class of this dataset")


@pytest.mark.parametrize(
    "train_split, eval_split, message",
    [
        ("train[100%:]", None, "train split {name} train[100%:] selects no rows; widen the slice"),
        (None, "validation[6:]", "validation split {name} validation[6:] selects no rows; widen the slice"),
    ],
)
def test_an_empty_slice_names_the_split(project, hub, train_split, eval_split, message):
    hub.publish()
    with pytest.raises(DataError) as err:
        data.load(write_task(project, hub={}, repo=hub.repo), train_split=train_split, eval_split=eval_split)
    assert str(err.value) == message.format(name=hub.name)


def not_cached(repo, revision=None):
    """What huggingface_hub's offline answer becomes when the cache lacks a repo or a revision of it."""
    where = f"dataset '{repo}'" + (f" at revision '{revision}'" if revision else "")
    pinned = f" --revision {revision}" if revision else ""
    return (f"{where}: not in the Hugging Face cache ({CACHE_SHOWN}) and the hub cannot be reached (offline or no network). "
            f"Download it once where the network is, into the same cache (HF_HOME): hf download {repo} --repo-type dataset{pinned}\n"
            "Or run without the hub: --data-dir DIR with the task's local files")


@pytest.mark.parametrize("revision", [None, "v1.0", "d" * 40])
def test_a_dataset_not_in_the_cache_offline_says_how_to_download_it_or_go_local(project, hub, revision):
    spec = write_task(project, hub={"revision": revision}, local=LOCAL, repo=hub.repo)  # nothing published
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    assert str(err.value) == f"{not_cached(hub.repo, revision)}: {LOCAL_LIST}{SHARED_HINT}"


@pytest.mark.parametrize("revision", ["v9", "e" * 40])
def test_a_revision_the_cache_does_not_hold_is_named_with_its_download(project, hub, revision):
    hub.publish()  # main is there; the pinned branch, tag or commit is not
    spec = write_task(project, hub={"revision": revision}, local=LOCAL, repo=hub.repo)
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    assert str(err.value) == f"{not_cached(hub.repo, revision)}: {LOCAL_LIST}{SHARED_HINT}"


def test_a_dataset_not_in_the_cache_of_a_task_without_local_files(project, hub):
    spec = write_task(project, hub={"name": None}, repo=hub.repo)
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    assert str(err.value) == f"{not_cached(hub.repo)}; but tasks/fixture/hub-a.yaml lists none: add a dataset.local section"


@pytest.mark.parametrize("pin", [None, "v2"])
def test_a_config_the_card_does_not_list_names_the_spec_field(project, hub, pin):
    commit = hub.publish(revision=pin or "main")
    spec = write_task(project, hub={"name": "config-b", "revision": pin}, repo=hub.repo)
    with pytest.raises(DataError) as err:
        data.load(spec)
    assert not isinstance(err.value, DataUnavailable)  # the spec is wrong, not the network
    assert str(err.value) == (
        f"could not load the hub dataset {hub.repo} (config config-b) at {hub.repo}@{commit[:12]} "
        "(tasks/fixture/hub-a.yaml: dataset.hub): ValueError: BuilderConfig 'config-b' not found. Available: ['config-a']"
    )


def test_the_shared_data_hint_only_names_a_folder_that_exists(project, hub, monkeypatch):
    spec = write_task(project, hub={}, local=LOCAL, repo=hub.repo)  # not in the cache
    monkeypatch.setattr(hub_source, "SHARED_DATA", project.parent / "elsewhere" / "data")
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    assert str(err.value).endswith(f"the task's local files: {LOCAL_LIST}")


def test_the_shared_data_hint_on_another_drive_is_not_a_relative_path(project, hub, monkeypatch):
    """On Windows, a folder on another drive than the working folder has no relative path to it."""

    class OtherDrive(type(Path())):
        anchor = "D:\\"

    spec = write_task(project, hub={}, local=LOCAL, repo=hub.repo)  # not in the cache
    monkeypatch.setattr(hub_source, "SHARED_DATA", OtherDrive(project.parent / "shared" / "data"))
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    assert str(err.value).endswith(": --data-dir .../shared/data)")


# --------------------------------------------------------------------------------------
# Dotted paths into a row's fields, and what a row is told when one is missing
# --------------------------------------------------------------------------------------


def json_hub(values):
    """A hub dataset whose 'meta' column holds free-form JSON objects (or other JSON values) per row."""
    features = Features({"sentence": Value("string"), "meta": Json()})
    return Dataset.from_dict({"sentence": [f"s{i}" for i in range(len(values))], "meta": values}, features=features)


@pytest.mark.parametrize(
    "path, meta",
    [
        ("meta.gold", {"gold": "beta", "gold.x": "alpha"}),
        ("meta.a.b", {"a.b": "beta", "a": {"b": "alpha"}}),  # a key that holds a dot wins
        ("meta.a.b", {"a": {"b": "beta"}, "a.b.c": "alpha"}),
        ("meta.a.b.c", {"a": "not an object", "a.b": {"c": "beta"}}),  # past a prefix that is no object
        ("meta.a.b.c", {"a": {"b.c": "beta", "b": {"c": "alpha"}}}),
    ],
)
def test_a_dotted_path_reads_the_field_a_reader_would(project, path, meta):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": path}})
    assert rows(data.from_hub_dataset(json_hub([meta]), spec)) == [("s0", "beta")]


def test_a_missing_field_lists_the_rows_fields_shortened(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold"}})
    long_key = "k" * 50
    fields = {"gold": "alpha"}, {long_key: 1, "'quoted'": 2, "X-ray": 3, **{f"f{i}": i for i in range(25)}}
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(json_hub(list(fields)), spec, where="fixture/hub-a/config-a train")
    shown = ", ".join(["k" * 36 + "...", "quoted", "X-ray", *(f"f{i}" for i in range(17))])  # the first 20
    assert str(err.value) == (f"fixture/hub-a/config-a train, row 1: no column 'gold'; the row has: {shown} "
                              "(fix the spec's columns mapping)")


def test_a_missing_field_two_levels_down_names_the_row(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold.label"}})
    values = [{"gold": {"label": "alpha"}}, {"gold": {"label": "beta"}}, {"gold": {"name": "gamma", "id": 2}}]
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(json_hub(values), spec, where="fixture/hub-a/config-a train")
    assert str(err.value) == ("fixture/hub-a/config-a train, row 2: no column 'label'; the row has: name, id "
                              "(fix the spec's columns mapping)")


@pytest.mark.parametrize("value, kind", [(["gold"], "list"), ("gold", "str"), (7, "int")])
def test_a_field_under_a_value_that_is_no_object(project, value, kind):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.gold"}})
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(json_hub([{"gold": "alpha"}, value]), spec, where="fixture/hub-a/config-a train")
    assert str(err.value) == (f"fixture/hub-a/config-a train, row 1: no column 'gold'; the row has: no columns "
                              f"(a JSON {kind}, not an object) (fix the spec's columns mapping)")


# --------------------------------------------------------------------------------------
# Slices of a hub split
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, kept",
    [
        ("train", list(range(12))),
        ("train[3:5]", [3, 4]),
        ("train[:25%]", [0, 1, 2]),
        ("train[-2:]", [10, 11]),
        ("train[5:5]", []),
        ("train[8:3]", []),
        ("train[11:]", [11]),
        ("train[:1]", [0]),
    ],
)
def test_a_slice_keeps_those_rows_in_file_order(expr, kept):
    whole = hub_split("t", 12)
    assert data.select_split(whole, data.parse_split(expr))["sentence"] == [f"t {i}" for i in kept]


# --------------------------------------------------------------------------------------
# The canonical schema of each head, and the values it refuses
# --------------------------------------------------------------------------------------

TAGS = ["B-X", "I-X", "O"]
HUB_TAGS = ["O", "B-X", "I-X"]


def token_task(project):
    return write_task(project, hub={"columns": {"tokens": "words", "tags": "marks"}}, labels=TAGS, head="token-classification")


def token_hub(words, marks, tag_feature=ClassLabel(names=HUB_TAGS)):
    features = Features({"words": List(Value("string")), "marks": List(tag_feature)})
    return Dataset.from_dict({"words": words, "marks": marks}, features=features)


def test_token_tags_map_by_name_into_the_canonical_schema(project):
    ds = data.from_hub_dataset(token_hub([["a", "b", "c"], ["d"]], [[1, 2, 0], [0]]), token_task(project))
    assert ds.features == Features({"tokens": List(Value("string")), "tags": List(Value("int64"))})
    assert ds[:] == {"tokens": [["a", "b", "c"], ["d"]], "tags": [[0, 1, 2], [2]]}


def test_token_tags_given_as_names(project):
    ds = data.from_hub_dataset(token_hub([["a", "b"]], [["B-X", "O"]], Value("string")), token_task(project))
    assert ds[0] == {"tokens": ["a", "b"], "tags": [0, 2]}


def test_tokens_and_tags_of_different_lengths(project):
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(token_hub([["a"], ["b", "c"]], [[0], [0]]), token_task(project), where="fixture/hub-a/config-a train")
    assert str(err.value) == "fixture/hub-a/config-a train, row 1: 2 tokens but 1 tags"


def test_tokens_that_are_not_a_list_of_strings(project):
    features = Features({"words": Value("string"), "marks": List(ClassLabel(names=HUB_TAGS))})
    hub = Dataset.from_dict({"words": ["a", "bc"], "marks": [[0], [0, 0]]}, features=features)
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub, token_task(project), where="fixture/hub-a/config-a train")
    assert str(err.value) == "fixture/hub-a/config-a train, row 0: tokens must be a list of strings, got 'a'"


def test_sentence_pairs_and_single_sentences(project):
    pair = write_task(project, hub={"columns": {"text_a": "sentence", "text_b": "sentence", "label": "label"}})
    ds = data.from_hub_dataset(hub_split("s", 2), pair)
    assert ds.features == Features({"text_a": Value("string"), "text_b": Value("string"), "label": Value("int64")})
    assert ds[:] == {"text_a": ["s 0", "s 1"], "text_b": ["s 0", "s 1"], "label": [2, 0]}
    single = data.from_hub_dataset(hub_split("s", 2), write_task(project, hub={}))
    assert single.features == Features({"text_a": Value("string"), "label": Value("int64")})


@pytest.mark.parametrize("column", ["text_a", "text_b"])
def test_a_text_that_is_not_text(project, column):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "text_b": "sentence", "label": "label", column: "meta.n"}})
    features = Features({"sentence": Value("string"), "meta": Json(), "label": ClassLabel(names=HUB_ORDER)})
    hub = Dataset.from_dict({"sentence": ["a", "b"], "meta": [{"n": "x"}, {"n": 5}], "label": [0, 0]}, features=features)
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub, spec, where="fixture/hub-a/config-a train")
    assert str(err.value) == f"fixture/hub-a/config-a train, row 1: {column} is 5, expected text"


def regression_task(project, repo="fixture/hub-a"):
    return write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.score"}}, labels=None, head="regression",
                      repo=repo)


def test_regression_scores_stay_exact_floats(project):
    features = Features({"sentence": Value("string"), "meta": {"score": Value("float64")}})
    scores = [{"score": 4.857142857142857}, {"score": 3.5}, {"score": 2}]
    hub = Dataset.from_dict({"sentence": ["a", "b", "c"], "meta": scores}, features=features)
    ds = data.from_hub_dataset(hub, regression_task(project))
    assert ds.features == Features({"text_a": Value("string"), "label": Value("float64")})
    assert ds["label"] == [4.857142857142857, 3.5, 2.0]
    assert data.from_hub_dataset(json_hub([{"score": "3.25"}, {"score": 1}]), regression_task(project))["label"] == [3.25, 1.0]


@pytest.mark.parametrize("score, shown", [("high", "'high'"), (None, "None"), ("nan", "'nan'"), ("inf", "'inf'"), ([1], "[1]")])
def test_a_regression_score_that_is_no_number(project, score, shown):
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(json_hub([{"score": 1.0}, {"score": score}]), regression_task(project), where="fixture/hub-a/config-a train")
    assert str(err.value) == f"fixture/hub-a/config-a train, row 1: the regression label {shown} is not a number"


def test_labels_without_class_names_are_read_as_names(project):
    """True and 1 are equal keys in Python; as labels they are the names 'True' and '1'."""
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.l"}}, labels=["1", "True", "1.5"])
    ds = data.from_hub_dataset(json_hub([{"l": 1}, {"l": True}, {"l": "1"}, {"l": 1.5}, {"l": True}, {"l": 1}]), spec)
    assert ds["label"] == [0, 1, 0, 2, 1, 0]


def test_a_class_name_the_task_does_not_have(project):
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=[*HUB_ORDER, "delta"])})
    hub = Dataset.from_dict({"sentence": ["a", "b"], "label": [0, 3]}, features=features)
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub, write_task(project, hub={}), where="fixture/hub-a/config-a train")
    assert str(err.value) == ("fixture/hub-a/config-a train, row 1: label 'delta' (raw value 3) is not one of the task's labels "
                              "['alpha', 'beta', 'gamma']; check tasks/fixture/hub-a.yaml: dataset.labels")


def test_a_label_name_the_task_does_not_have(project):
    spec = write_task(project, hub={"columns": {"text_a": "sentence", "label": "meta.l"}})
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(json_hub([{"l": "alpha"}, {"l": "delta"}]), spec, where="fixture/hub-a/config-a train")
    assert str(err.value) == ("fixture/hub-a/config-a train, row 1: label 'delta' is not one of the task's labels "
                              "['alpha', 'beta', 'gamma']; check tasks/fixture/hub-a.yaml: dataset.labels")


def test_a_tag_the_task_does_not_have_names_the_sentence(project):
    hub = token_hub([["a", "b"], ["c", "d"]], [["B-X", "O"], ["O", "B-Y"]], Value("string"))
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub, token_task(project), where="fixture/hub-a/config-a train")
    assert str(err.value) == ("fixture/hub-a/config-a train, row 1: label 'B-Y' is not one of the task's labels "
                              "['B-X', 'I-X', 'O']; check tasks/fixture/hub-a.yaml: dataset.labels")


def test_an_empty_selection_keeps_the_canonical_schema(project):
    """A split with no rows (or no tokens) still has the column types the model code reads."""
    tokens = data.from_hub_dataset(token_hub([["a"], []], [[0], []]).select([1]), token_task(project))
    assert tokens.features == Features({"tokens": List(Value("string")), "tags": List(Value("int64"))})
    assert tokens[:] == {"tokens": [[]], "tags": [[]]}
    pair = write_task(project, hub={"columns": {"text_a": "sentence", "text_b": "sentence", "label": "label"}})
    sentences = data.from_hub_dataset(hub_split("s", 2).select([]), pair)
    assert sentences.features == Features({"text_a": Value("string"), "text_b": Value("string"), "label": Value("int64")})
    assert len(sentences) == 0
    scores = data.from_hub_dataset(json_hub([{"score": 1.0}]).select([]), regression_task(project))
    assert scores.features == Features({"text_a": Value("string"), "label": Value("float64")})


def test_local_token_tags_map_through_the_label_map(project):
    """The token head's tags go through a local file's label_map, as a sentence head's labels do."""
    (project / "data").mkdir()
    (project / "data" / "tags.conll").write_text("a PER\nb OUT\n\nc OUT\nd ORG\n", encoding="utf-8")
    local = {"files": {"validation": {"path": "tags.conll", "format": "conll", "label_map": {"PER": "B-X", "OUT": "O", "ORG": "I-X"}}},
             "train": "validation[:50%]", "validation": "validation[50%:]"}
    spec = write_task(project, local=local, labels=TAGS, head="token-classification")
    assert data.read_local_file(spec, "validation", project / "data")[:] == {"tokens": [["a", "b"], ["c", "d"]], "tags": [[0, 2], [2, 1]]}
    local["files"]["validation"]["label_map"] = {"PER": "B-X", "OUT": "O"}
    spec = write_task(project, local=local, labels=TAGS, head="token-classification")
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "validation", project / "data")
    assert str(err.value) == ("tags.conll (dataset.local.files.validation), row 1: label 'ORG' is not in the label_map of "
                              "tasks/fixture/hub-a.yaml (dataset.local.files.validation.label_map); it maps ['OUT', 'PER']")
    local["files"]["validation"]["label_map"] = {"PER": "B-X", "OUT": "O", "ORG": "B-Z"}
    spec = write_task(project, local=local, labels=TAGS, head="token-classification")
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "validation", project / "data")
    assert str(err.value) == ("tags.conll (dataset.local.files.validation), row 1: label 'B-Z' (raw value 'ORG') is not one of "
                              "the task's labels ['B-X', 'I-X', 'O']; check tasks/fixture/hub-a.yaml: dataset.labels, "
                              "or add it to dataset.local.files.validation.label_map to map it")


@pytest.mark.parametrize("index", [3, 7])
def test_a_class_index_past_the_last_class(project, index):
    """Arrow files carry their features unchecked: a class index the ClassLabel lacks can reach the loader."""
    table = Dataset.from_dict({"sentence": ["a", "b"], "label": [2, index]}).data
    hub = Dataset(table, info=datasets.DatasetInfo(features=Features({"sentence": Value("string"), "label": ClassLabel(names=HUB_ORDER)})))
    with pytest.raises(DataError) as err:
        data.from_hub_dataset(hub, write_task(project, hub={}), where="fixture/hub-a/config-a train")
    assert str(err.value) == (
        f"fixture/hub-a/config-a train, row 1: label {index} is not a class of this dataset (a split without gold labels, "
        "such as a test split?); its classes are ['gamma', 'alpha', 'beta']"
    )


# --------------------------------------------------------------------------------------
# How train and validation were made, in the note a record carries
# --------------------------------------------------------------------------------------


def test_the_note_says_what_was_cut_of_which_split(project, hub):
    hub.publish()
    spec = write_task(project, hub={}, repo=hub.repo)
    assert data.load(spec, train_split="train[:6]").note == f"train = train[:6] of {hub.name}; scored on validation"
    assert data.load(spec, eval_split="validation[:3]").note == f"train = train of {hub.name}; scored on validation[:3]"


def test_a_spec_carve_keeps_a_whole_side_in_the_seeded_order(project, hub):
    hub.publish({"validation": hub_split("held-out text", 12)})
    spec = write_task(project, hub={"train": "validation[:50%]", "validation": "validation"}, repo=hub.repo)
    loaded = data.load(spec, warn=lambda message: None)
    assert loaded.carved and loaded.validation_examples == 12
    assert loaded.note.endswith("(stratified by label, after a seeded shuffle: stratified shuffle v1, seed 0)")
    assert loaded.warnings[0] == "train (validation[:50%]) and the scored split (validation) share 6 rows"


def test_a_token_task_carve_is_shuffled_not_stratified(project, hub):
    words = [[f"w{i}", "x"] for i in range(10)]
    hub.publish({"validation": token_hub(words, [[1, 0]] * 5 + [[0, 0]] * 5)})
    spec = write_task(project, hub={"columns": {"tokens": "words", "tags": "marks"}, "train": "validation[:80%]",
                                    "validation": "validation[80%:]"}, labels=TAGS, head="token-classification", repo=hub.repo)
    loaded = data.load(spec, warn=lambda message: None)
    assert loaded.carved and (loaded.train_examples, loaded.validation_examples) == (8, 2)
    assert loaded.note == (f"train = validation[:80%] of {hub.name}; scored on validation[80%:] "
                           "(after a seeded shuffle: stratified shuffle v1, seed 0)")
    order = [int(row["tokens"][0][1:]) for side in ("train", "validation") for row in loaded.dataset[side]]
    assert order == carving.carve_order(10)  # one seeded order of all rows, no strata


def test_local_files_of_different_splits_are_both_named(project):
    (project / "data").mkdir()
    for name in ("train", "dev"):
        rows_text = "".join(f"{name} text {i},{LABELS[i % 3]}\n" for i in range(6))
        (project / "data" / f"{name}.csv").write_text("sentence,label\n" + rows_text, encoding="utf-8")
    local = {"files": {split: {**f, "path": f["path"].split("/")[-1]} for split, f in LOCAL["files"].items()}}
    loaded = data.load(write_task(project, local=local), project / "data", train_split="train[:3]")
    assert loaded.note == "train = train[:3] of train.csv; scored on validation of dev.csv"
    scored = data.load(write_task(project, local=local), project / "data", eval_split="validation[-2:]")
    assert scored.note == "train = train of train.csv; scored on validation[-2:] of dev.csv"
    assert scored.dataset["validation"]["text_a"] == ["dev text 4", "dev text 5"]


def test_a_spec_built_in_code_is_named_by_its_id(project):
    spec = write_task(project, local=LOCAL).model_copy(update={"path": None})
    with pytest.raises(DataError) as err:
        data.load(spec)
    assert str(err.value).startswith("task fixture/hub-a has no hub source (the spec of fixture/hub-a: dataset.hub); ")


# --------------------------------------------------------------------------------------
# Split expressions a user types: --train-split / --eval-split
# --------------------------------------------------------------------------------------

GRAMMAR = "e.g. 'train', 'validation[:80%]', 'train[:1000]', 'validation[80%:]', 'train[10%:20%]'"


@pytest.mark.parametrize(
    "expr, message",
    [
        ("train[:80%", f"split expression 'train[:80%' is not understood; write a split name with an optional slice, {GRAMMAR}"),
        ("train[1:2:3]", f"split expression 'train[1:2:3]' is not understood; write a split name with an optional slice, {GRAMMAR}"),
        ("train[10%:20]", "split expression 'train[10%:20]' mixes percent and row counts; use one unit for both ends"),
        ("train[10:20%]", "split expression 'train[10:20%]' mixes percent and row counts; use one unit for both ends"),
        ("train[:101%]", "split expression 'train[:101%]': a percent boundary lies between -100% and 100%"),
        ("train[-101%:]", "split expression 'train[-101%:]': a percent boundary lies between -100% and 100%"),
    ],
)
def test_a_split_expression_that_is_refused_says_why(project, hub, expr, message):
    hub.publish()
    with pytest.raises(DataError) as err:
        data.load(write_task(project, hub={}, repo=hub.repo), train_split=expr)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "expr, parsed",
    [
        (" validation[-100%:100%] ", data.SplitExpr("validation", -100, 100, percent=True)),
        ("train[-100%:]", data.SplitExpr("train", -100, None, percent=True)),
        ("dev.v1-2[3:]", data.SplitExpr("dev.v1-2", 3, None)),
        ("train[:0]", data.SplitExpr("train", None, 0)),
        ("train[:]", data.SplitExpr("train")),
    ],
)
def test_split_expressions_at_the_edges_of_the_grammar(expr, parsed):
    assert data.parse_split(expr) == parsed


# --------------------------------------------------------------------------------------
# What load() adds on top: row limits, the single-class refusal, warnings on the console
# --------------------------------------------------------------------------------------


def test_row_limits_keep_the_first_rows_of_each_side(project, hub):
    hub.publish()
    loaded = data.load(write_task(project, hub={}, repo=hub.repo), limit=4, eval_limit=2)
    assert rows(loaded.dataset["train"]) == [(f"train text {i}", HUB_ORDER[i % 3]) for i in range(4)]
    assert rows(loaded.dataset["validation"]) == [("held-out text 0", "gamma"), ("held-out text 1", "alpha")]
    assert loaded.note == "--limit 4: the first 4 of 12 train rows; --eval-limit 2: the first 2 of 6 validation rows"


def test_a_single_class_hub_split_is_refused_unless_asked(project, hub):
    spec = write_task(project, hub={"validation": "validation[:3]"}, repo=hub.repo)
    hub.publish({"train": hub_split("train text", 6), "validation": hub_split("held-out text", 6, labels=[0] * 6)})
    with pytest.raises(DataError) as err:
        data.load(spec)
    assert str(err.value) == (
        "task fixture/hub-a: the scored split (validation[:3], 3 rows) holds only the label 'gamma', so its score would "
        "mean nothing; score on a split with several labels, or opt in with `bench run --allow-single-class` if that is what you want"
    )
    loaded = data.load(spec, allow_single_class=True, warn=lambda message: None)
    assert loaded.warnings == ("the scored split (validation[:3]) has no rows labelled alpha, beta; its score says nothing about them",)


def test_a_regression_task_loads_from_the_hub(project, hub):
    features = Features({"sentence": Value("string"), "meta": {"score": Value("float64")}})
    scored = Dataset.from_dict({"sentence": ["a", "b"], "meta": [{"score": 2.5}, {"score": 3.5}]}, features=features)
    train = Dataset.from_dict({"sentence": ["c", "d"], "meta": [{"score": 1.0}, {"score": 4.0}]}, features=features)
    hub.publish({"train": train, "validation": scored})
    loaded = data.load(regression_task(project, hub.repo), warn=pytest.fail)
    assert loaded.dataset["validation"][:] == {"text_a": ["a", "b"], "label": [2.5, 3.5]} and loaded.label_counts == {}


def test_a_regression_split_of_one_gold_score_is_refused(project, hub):
    """Pearson and Spearman of a constant gold column are undefined: refused when the data loads, not scored 0.00."""
    features = Features({"sentence": Value("string"), "meta": {"score": Value("float64")}})
    scored = Dataset.from_dict({"sentence": ["a", "b"], "meta": [{"score": 2.5}, {"score": 2.5}]}, features=features)
    train = Dataset.from_dict({"sentence": ["c", "d"], "meta": [{"score": 1.0}, {"score": 4.0}]}, features=features)
    hub.publish({"train": train, "validation": scored})
    with pytest.raises(DataError, match="every gold score of the scored split .* is 2.5"):
        data.load(regression_task(project, hub.repo))


def test_warnings_go_to_stderr_in_yellow_unwrapped(project, hub, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")
    for name in ("NO_COLOR", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    hub.publish()
    spec = write_task(project, hub={}, repo=hub.repo)
    data.load(spec, warn=lambda message: None)  # datasets' first read of the repo draws its progress bars on stderr
    capsys.readouterr()
    data.load(spec, train_split="validation", eval_split="validation[:50%]")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "\x1b[33mwarning: fixture/hub-a: train (validation) and the scored split (validation[:50%]) share 3 rows\x1b[0m\n"
        "\x1b[33mwarning: fixture/hub-a: 3 of 3 scored rows (validation[:50%]) also appear in train with the same text; "
        "the score partly measures memory\x1b[0m\n"
    )


def fingerprint_of(payload):
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def test_the_fingerprint_covers_source_revision_splits_carve_note_and_rows(project, hub):
    """Pinned: what goes into a hub load's fingerprint (a change to it reruns every recorded run)."""
    commit = hub.publish()
    plain = data.load(write_task(project, hub={"train": "train[2:8]", "validation": "validation[:50%]"}, repo=hub.repo), limit=5)
    assert plain.fingerprint == fingerprint_of({
        "source": f"hub:{hub.name}@{commit}", "files": [], "hub_revision": commit,
        "splits": ["train[2:8]", "validation[:50%]"], "carve": None, "rows": [5, 3],
        "note": f"train = train[2:8] of {hub.name}; scored on validation[:50%]; --limit 5: the first 5 of 6 train rows",
    })
    pushed = hub.publish({"validation": hub_split("held-out text", 12)})
    carved = data.load(write_task(project, hub={"train": "validation[:50%]", "validation": "validation[50%:]"}, repo=hub.repo))
    assert carved.fingerprint == fingerprint_of({
        "source": f"hub:{hub.name}@{pushed}", "files": [], "hub_revision": pushed,
        "splits": ["validation[:50%]", "validation[50%:]"], "carve": "stratified shuffle v1, seed 0", "rows": [6, 6],
        "note": f"train = validation[:50%] of {hub.name}; scored on validation[50%:] "
                "(stratified by label, after a seeded shuffle: stratified shuffle v1, seed 0)",
    })


@pytest.mark.parametrize(
    "limit, eval_limit, sizes, note",
    [
        (None, 1, (12, 1), "--eval-limit 1: the first 1 of 6 validation rows"),
        (1, None, (1, 6), "--limit 1: the first 1 of 12 train rows"),
        (50, 6, (12, 6), "--limit 50: the first 12 of 12 train rows; --eval-limit 6: the first 6 of 6 validation rows"),
    ],
)
def test_row_limits_say_what_they_kept(project, hub, limit, eval_limit, sizes, note):
    hub.publish()
    loaded = data.load(write_task(project, hub={}, repo=hub.repo), limit=limit, eval_limit=eval_limit, allow_single_class=True, warn=lambda m: None)
    assert (loaded.train_examples, loaded.validation_examples) == sizes
    assert tuple(len(loaded.dataset[side]) for side in ("train", "validation")) == sizes
    assert loaded.note == note


@pytest.mark.parametrize(
    "limit, eval_limit, message", [(0, None, "--limit 0: give 1 or more rows"), (None, -2, "--eval-limit -2: give 1 or more rows")]
)
def test_a_row_limit_below_one_is_refused(project, hub, limit, eval_limit, message):
    hub.publish()
    with pytest.raises(DataError) as err:
        data.load(write_task(project, hub={}, repo=hub.repo), limit=limit, eval_limit=eval_limit)
    assert str(err.value) == message


def test_a_limited_run_says_how_it_deviates_from_the_protocol():
    assert data.limit_deviations(None, None) == []
    assert data.limit_deviations(16, None) == [
        "smoke run: trained on at most the first 16 train rows (--limit 16), not the task's full splits"]
    assert data.limit_deviations(None, 8) == [
        "smoke run: scored on at most the first 8 validation rows (--eval-limit 8), not the task's full splits"]
    assert data.limit_deviations(16, 8) == [
        "smoke run: trained on at most the first 16 train rows (--limit 16); "
        "scored on at most the first 8 validation rows (--eval-limit 8), not the task's full splits"]
