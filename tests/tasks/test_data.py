"""harness/tasks/data on the real KLUE/GLUE files of ../shared/data, offline.

Row counts are the official ones (../shared/data/MANIFEST.md). The hub is never
contacted: its label mapping is tested on in-memory Datasets built like the hub's, and
hub loads read the test run's real Hugging Face cache offline (tests/hubcache.py).
"""

import hashlib
import json
import re
import shutil

import datasets
import pytest
import yaml
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

import hubcache
from harness.tasks import carving, data
from harness.tasks.data import DataError, DataUnavailable, SplitExpr, parse_split
from harness.tasks.spec import load_spec, load_tasks


def task(task_id):
    return load_tasks([task_id])[0]


def write_spec(tmp_path, base_id, **dataset_changes):
    """A copy of a real task spec, with parts of its `dataset` section replaced, as a file."""
    raw = task(base_id).file_fields()
    raw["dataset"].update(dataset_changes)
    path = tmp_path / "tasks" / raw["suite"] / "custom.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_spec(path)


# --------------------------------------------------------------------------------------
# Split expressions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, parsed",
    [
        ("train", SplitExpr("train")),
        ("validation[:80%]", SplitExpr("validation", None, 80, percent=True)),
        ("validation[80%:]", SplitExpr("validation", 80, None, percent=True)),
        ("train[:1000]", SplitExpr("train", None, 1000)),
        ("train[10%:20%]", SplitExpr("train", 10, 20, percent=True)),
        ("train[-50:]", SplitExpr("train", -50, None)),
    ],
)
def test_parse_split(expr, parsed):
    assert parse_split(expr) == parsed
    assert str(parsed) == expr  # the note in the result record repeats what the user wrote


@pytest.mark.parametrize("expr", ["validation[:80%]", "validation[80%:]", "train[:1000]", "train[10%:20%]", "train[-50:]", "train[33%:67%]", "train[-10%:]"])
@pytest.mark.parametrize("num_rows", [1, 7, 408, 519, 3000, 5463])
def test_split_bounds_match_datasets_slicing(expr, num_rows):
    """Same rows as `datasets`' own split slicing (closest rounding), on sizes that round differently."""
    instruction = datasets.ReadInstruction.from_spec(expr).to_absolute({expr.split("[")[0]: num_rows})[0]
    assert parse_split(expr).bounds(num_rows) == (instruction.from_, instruction.to)


def test_select_split_is_a_contiguous_range():
    ds = Dataset.from_dict({"x": list(range(10))})
    assert data.select_split(ds, parse_split("train[20%:50%]"))["x"] == [2, 3, 4]
    assert data.select_split(ds, parse_split("train[-3:]"))["x"] == [7, 8, 9]
    assert data.select_split(ds, parse_split("train")) is ds


@pytest.mark.parametrize("expr", ["train[:80%", "train[10%:20]", "train[:150%]", "", "train[1:2:3]", "validation[a:b]"])
def test_parse_split_rejects_bad_expressions(expr):
    with pytest.raises(DataError, match="split expression"):
        parse_split(expr)


# --------------------------------------------------------------------------------------
# Every local format on the real files, with the official row counts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task_id, train_rows, validation_rows, carved",
    [
        ("klue/ynat", 45_678, 9_107, False),  # tsv (pandas quoting, header) + tsv without header
        ("klue/sts", 11_668, 519, False),  # csv + klue-json with a nested label
        ("klue/nli", 2_400, 600, True),  # klue-json, 3,000 dev rows carved 80/20
        ("klue/ner", 4_000, 1_000, True),  # klue-ner-tsv, 5,000 dev sentences carved 80/20
        ("glue/mrpc", 3_668, 408, False),  # glue-tsv; quoting on would lose rows
        ("glue/stsb", 5_749, 1_500, False),
        ("glue/sst2", 67_349, 872, False),
        ("glue/qnli", 4_370, 1_093, True),  # 5,463 dev rows carved 80/20 (4,370.4 rounds to 4,370)
    ],
)
def test_local_task_row_counts(shared_data, task_id, train_rows, validation_rows, carved):
    loaded = data.load(task(task_id), shared_data)
    assert (loaded.train_examples, loaded.validation_examples) == (train_rows, validation_rows)
    assert {k: len(v) for k, v in loaded.dataset.items()} == {"train": train_rows, "validation": validation_rows}
    assert loaded.source == "local" and loaded.carved == carved and (loaded.note is not None) == carved
    for file in loaded.files:  # named relative to --data-dir, with the hash of the bytes read
        assert file.path in {f.path for f in task(task_id).dataset.local.files.values()}
        assert file.sha256 == hashlib.sha256((shared_data / file.path).read_bytes()).hexdigest()
    assert len(loaded.files) == (1 if carved else 2) and len(loaded.fingerprint) == 64


@pytest.mark.parametrize(
    "task_id, split, rows",
    [("klue/nli", "validation", 3_000), ("klue/ner", "validation", 5_000), ("glue/qnli", "validation", 5_463)],
)
def test_whole_dev_files_of_carved_tasks(shared_data, task_id, split, rows):
    assert len(data.read_local_file(task(task_id), split, shared_data)) == rows


def test_carving_note_names_the_file_and_both_halves(shared_data):
    loaded = data.load(task("klue/nli"), shared_data)
    assert loaded.note == (
        "train = validation[:80%] of klue/nli/klue-nli-v1.1_dev.json; scored on validation[80%:] "
        "(stratified by label, after a seeded shuffle: stratified shuffle v1, seed 0)"
    )


def test_canonical_schema_per_head(shared_data):
    pair = data.load(task("glue/mrpc"), shared_data).dataset
    assert pair["train"].features == Features({"text_a": Value("string"), "text_b": Value("string"), "label": Value("int64")})
    single = data.load(task("glue/sst2"), shared_data).dataset
    assert single["validation"].column_names == ["text_a", "label"]  # no text_b when the spec maps none
    regression = data.load(task("glue/stsb"), shared_data).dataset
    assert regression["validation"].features["label"] == Value("float64")
    tokens = data.load(task("klue/ner"), shared_data).dataset
    assert tokens["train"].features == Features({"tokens": List(Value("string")), "tags": List(Value("int64"))})


def test_ynat_rows_and_labels_by_name(shared_data):
    spec = task("klue/ynat")
    ds = data.load(spec, shared_data).dataset
    # the no-header dev file: row 0 is the hub's validation[0] (MANIFEST.md)
    assert ds["validation"][0] == {"text_a": "5억원 무이자 융자는 되고 7천만원 이사비는 안된다", "label": spec.dataset.labels.index("사회")}
    assert ds["train"][0] == {"text_a": "유튜브 내달 2일까지 크리에이터 지원 공간 운영", "label": spec.dataset.labels.index("생활문화")}
    assert sorted(set(ds["train"]["label"])) == list(range(7))


def test_klue_sts_scores_are_real_labels(shared_data):
    ds = data.load(task("klue/sts"), shared_data).dataset
    assert ds["validation"][0]["label"] == pytest.approx(4.857142857142857)  # labels.real-label, not labels.label (4.9)
    assert ds["train"][0]["label"] == pytest.approx(3.7142857142)
    assert 0.0 <= min(ds["train"]["label"]) and max(ds["train"]["label"]) <= 5.0


def test_nli_labels_map_by_name(shared_data):
    spec = task("klue/nli")
    labels = spec.dataset.labels  # KLUE-baseline's order: entailment, contradiction, neutral
    whole = data.read_local_file(spec, "validation", shared_data)
    assert whole[0]["label"] == labels.index("contradiction") == 1
    assert whole[2]["label"] == labels.index("neutral") == 2
    assert [whole["label"].count(i) for i in range(3)] == [1000, 1000, 1000]


def test_mrpc_keeps_rows_with_unbalanced_quotes(shared_data):
    ds = data.load(task("glue/mrpc"), shared_data).dataset
    odd_quotes = [row for row in ds["train"] if (row["text_a"] + row["text_b"]).count('"') % 2]
    assert odd_quotes  # a quoting reader would have swallowed these with the rows after them
    assert ds["train"][0]["label"] == 1 and ds["train"][0]["text_a"].startswith("Amrozi accused his brother")
    assert sum(ds["validation"]["label"]) == 279  # GLUE MRPC dev: 279 paraphrases of 408


def test_stsb_and_qnli_rows(shared_data):
    stsb = data.load(task("glue/stsb"), shared_data).dataset["validation"][0]
    assert stsb == {"text_a": "A man with a hard hat is dancing.", "text_b": "A man wearing a hard hat is dancing.", "label": 5.0}
    spec = task("glue/qnli")
    qnli = data.read_local_file(spec, "validation", shared_data)
    assert qnli[0]["label"] == spec.dataset.labels.index("entailment")
    assert qnli[1]["label"] == spec.dataset.labels.index("not_entailment")


MARK = re.compile(r"<([^<>]+?):([A-Z]{2})>")  # '<경찰:OG>' in the sentence line of the NER file


def test_ner_tokens_are_the_sentence_characters(shared_data):
    spec = task("klue/ner")
    text = (shared_data / "klue/ner/klue-ner-v1.1_dev.tsv").read_text(encoding="utf-8")
    records = data.READERS["klue-ner-tsv"](text, "klue/ner/klue-ner-v1.1_dev.tsv", spec.dataset.local.files["validation"])
    assert len(records) == 5_000
    assert (records[0]["guid"], records[-1]["guid"]) == ("klue-ner-v1_dev_00000-wikitree", "klue-ner-v1_dev_04999-nsmc")
    for record in records:  # every sentence, spaces included, once its entity marks are stripped
        assert record["tokens"] == list(MARK.sub(r"\1", record["sentence"])), record["guid"]


def test_ner_tags_follow_the_entity_marks(shared_data):
    spec = task("klue/ner")
    labels = spec.dataset.labels
    ds = data.read_local_file(spec, "validation", shared_data)
    # '<경찰:OG>은 또 성매매 알선 자금을 관리한 <박:PS>씨의 딸(<32:QT>)과 ...'
    first = ds[0]
    tags = [labels[i] for i in first["tags"]]
    assert first["tokens"][:4] == ["경", "찰", "은", " "]
    assert tags[:4] == ["B-OG", "I-OG", "O", "O"]
    park = first["tokens"].index("박")
    assert tags[park] == "B-PS" and tags[park + 1] == "O"
    three = first["tokens"].index("3")
    assert first["tokens"][three : three + 2] == ["3", "2"] and tags[three : three + 2] == ["B-QT", "I-QT"]
    # the first sentence of the held-out fifth: '부산 동부경찰서는 ...', a space inside the entity is I-OG
    held_out = ds[4000]
    assert held_out["tokens"][:5] == ["부", "산", " ", "동", "부"]
    assert [labels[i] for i in held_out["tags"][:5]] == ["B-OG", "I-OG", "I-OG", "I-OG", "I-OG"]


def test_jsonl_reads_like_klue_json(shared_data, tmp_path):
    rows = json.loads((shared_data / "klue/nli/klue-nli-v1.1_dev.json").read_text(encoding="utf-8"))[:50]
    (tmp_path / "nli.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    local = task("klue/nli").dataset.local.model_dump()
    local["files"]["validation"].update(path="nli.jsonl", format="jsonl")
    spec = write_spec(tmp_path, "klue/nli", local=local)
    from_jsonl = data.read_local_file(spec, "validation", tmp_path)
    from_json = data.read_local_file(task("klue/nli"), "validation", shared_data).select(range(50))
    assert from_jsonl.to_dict() == from_json.to_dict()


# --------------------------------------------------------------------------------------
# --train-split / --eval-split overrides
# --------------------------------------------------------------------------------------


def test_split_overrides_replace_the_spec(shared_data):
    loaded = data.load(task("klue/nli"), shared_data, train_split="validation[:100]", eval_split="validation[-50:]")
    assert (loaded.train_examples, loaded.validation_examples) == (100, 50)
    whole = data.read_local_file(task("klue/nli"), "validation", shared_data)
    assert loaded.dataset["validation"][0] == whole[2950]
    assert loaded.note == "train = validation[:100] of klue/nli/klue-nli-v1.1_dev.json; scored on validation[-50:]"


def test_overlapping_overrides_are_flagged(shared_data):
    loaded = data.load(task("glue/mrpc"), shared_data, train_split="validation", eval_split="validation[:10%]", warn=print)
    assert "train (validation) and the scored split (validation[:10%]) share 41 rows" in loaded.warnings
    assert "41 of 41 scored rows (validation[:10%]) also appear in train with the same text" in " ".join(loaded.warnings)


def test_override_naming_an_unknown_split(shared_data):
    with pytest.raises(DataError, match=r"'train'.*no file.*dataset\.local\.files.*validation"):
        data.load(task("klue/ner"), shared_data, train_split="train")


def test_empty_slice_is_an_error(shared_data):
    with pytest.raises(DataError, match="selects no rows"):
        data.load(task("glue/mrpc"), shared_data, eval_split="validation[100%:]")


# --------------------------------------------------------------------------------------
# The hub, without the network
# --------------------------------------------------------------------------------------

HUB_NLI_ORDER = ["entailment", "neutral", "contradiction"]  # klue/klue nli's ClassLabel
HUB_NER_ORDER = ["B-DT", "I-DT", "B-LC", "I-LC", "B-OG", "I-OG", "B-PS", "I-PS", "B-QT", "I-QT", "B-TI", "I-TI", "O"]


def fake_hub_nli(n=10):
    features = Features({"premise": Value("string"), "hypothesis": Value("string"), "label": ClassLabel(names=HUB_NLI_ORDER)})
    return Dataset.from_dict(
        {"premise": [f"p{i}" for i in range(n)], "hypothesis": [f"h{i}" for i in range(n)], "label": [i % 3 for i in range(n)]},
        features=features,
    )


def test_hub_class_labels_map_by_name_not_position():
    spec = task("klue/nli")
    ds = data.from_hub_dataset(fake_hub_nli(3), spec)
    # hub 0 entailment -> 0; hub 1 neutral -> spec's 2; hub 2 contradiction -> spec's 1
    assert ds["label"] == [0, 2, 1]
    assert ds[0] == {"text_a": "p0", "text_b": "h0", "label": 0}


def test_hub_token_tags_map_by_name():
    spec = task("klue/ner")
    features = Features({"tokens": List(Value("string")), "ner_tags": List(ClassLabel(names=HUB_NER_ORDER))})
    hub = Dataset.from_dict({"tokens": [["박", "씨", " ", "내", "일"]], "ner_tags": [[6, 12, 12, 0, 1]]}, features=features)
    ds = data.from_hub_dataset(hub, spec)
    assert [spec.dataset.labels[i] for i in ds[0]["tags"]] == ["B-PS", "O", "O", "B-DT", "I-DT"]
    assert ds[0]["tokens"] == ["박", "씨", " ", "내", "일"]


def test_hub_nested_regression_label():
    spec = task("klue/sts")  # label: labels.real-label
    labels = {"label": Value("float64"), "real-label": Value("float64"), "binary-label": ClassLabel(names=["0", "1"])}
    features = Features({"sentence1": Value("string"), "sentence2": Value("string"), "labels": labels})
    hub = Dataset.from_dict(
        {"sentence1": ["a"], "sentence2": ["b"], "labels": [{"label": 4.9, "real-label": 4.857142857142857, "binary-label": 1}]},
        features=features,
    )
    assert data.from_hub_dataset(hub, spec)[0] == {"text_a": "a", "text_b": "b", "label": 4.857142857142857}


def publish_nli(repo, salt=""):
    """Synthetic klue/klue-like NLI rows (20 train, 10 validation, hub label order) as the config 'nli' of a repo of
    the test run's real hub cache (tests/hubcache.py). Returns the commit."""
    splits = DatasetDict(train=fake_hub_nli(20), validation=fake_hub_nli(10))
    return hubcache.write_dataset(hubcache.cache(), repo, {"nli": splits}, salt=salt)


def nli_task_reading(tmp_path, repo, **hub_changes):
    """klue/nli's spec, its hub source pointed at ``repo``."""
    return write_spec(tmp_path, "klue/nli", hub={**task("klue/nli").dataset.hub.model_dump(), "path": repo, **hub_changes})


def test_hub_load_slices_and_describes_its_source(hub_cache, shared_data):
    """klue/nli as the task file names it: klue/klue (config nli) from the fixture cache, read offline by datasets.
    Its train and validation are the two halves of the shared dev file's first rows (tests/hubcache.py)."""
    spec = task("klue/nli")
    loaded = data.load(spec)
    commit = hub_cache["klue/klue"]
    assert loaded.source == f"hub:klue/klue/nli@{commit}" and loaded.hub_revision == commit and loaded.files == ()
    rows = hubcache.ROWS
    assert (loaded.train_examples, loaded.validation_examples, loaded.note) == (rows, rows, None)
    dev = json.loads((shared_data / "klue/nli/klue-nli-v1.1_dev.json").read_text(encoding="utf-8"))

    def canonical(row):  # the label by name: the hub's ClassLabel order is not the spec's
        return {"text_a": row["premise"], "text_b": row["hypothesis"], "label": spec.dataset.labels.index(row["gold_label"])}

    assert loaded.dataset["train"][:3] == {k: [canonical(r)[k] for r in dev[:3]] for k in ("text_a", "text_b", "label")}
    assert loaded.dataset["validation"][-1] == canonical(dev[2 * rows - 1])
    overridden = data.load(spec, train_split="validation[:80%]", eval_split="validation[80%:]")
    cut = round(rows * 0.8)
    assert (overridden.train_examples, overridden.validation_examples) == (cut, rows - cut)
    assert overridden.note == "train = validation[:80%] of klue/klue/nli; scored on validation[80%:]"
    # a user's split keeps file order
    assert overridden.dataset["validation"]["text_a"] == [r["premise"] for r in dev[rows + cut: 2 * rows]]
    with pytest.raises(DataError, match="no split 'test'"):
        data.load(spec, eval_split="test")


def test_a_new_hub_commit_changes_the_fingerprint(tmp_path):
    repo = hubcache.fresh_repo_id("fixture/klue")
    first = publish_nli(repo)
    spec = nli_task_reading(tmp_path, repo)
    before = data.load(spec)
    second = publish_nli(repo, salt="the same files pushed again")  # refs/main moves to the new commit
    after = data.load(spec)
    assert (before.hub_revision, after.hub_revision) == (first, second) and first != second
    assert after.dataset["train"][:] == before.dataset["train"][:]  # the same rows...
    assert after.fingerprint != before.fingerprint  # ...of another commit: the record says which


def test_a_spec_carve_of_a_hub_split_is_stratified(tmp_path):
    repo = hubcache.fresh_repo_id("fixture/klue")
    publish_nli(repo)
    loaded = data.load(nli_task_reading(tmp_path, repo, train="validation[:70%]", validation="validation[70%:]"))
    assert loaded.carved and "stratified by label" in loaded.note
    assert loaded.label_counts == {"train": {"entailment": 3, "contradiction": 2, "neutral": 2},
                                   "validation": {"entailment": 1, "contradiction": 1, "neutral": 1}}


def test_hub_split_without_gold_labels():
    features = Features({"premise": Value("string"), "hypothesis": Value("string"), "label": ClassLabel(names=HUB_NLI_ORDER)})
    test_split = Dataset.from_dict({"premise": ["p"], "hypothesis": ["h"], "label": [-1]}, features=features)
    with pytest.raises(DataError, match="label -1 is not a class.*test split"):
        data.from_hub_dataset(test_split, task("klue/nli"), where="klue/klue/nli test")


def test_a_hub_dataset_not_in_the_cache_offline_says_how_to_go_local(tmp_path):
    repo = hubcache.fresh_repo_id("fixture/klue")  # never written, and tests/conftest.py sets HF_HUB_OFFLINE=1
    spec = write_spec(tmp_path, "klue/ynat", hub={**task("klue/ynat").dataset.hub.model_dump(), "path": repo})
    with pytest.raises(DataUnavailable) as err:
        data.load(spec)
    message = str(err.value)
    assert message.startswith(f"dataset '{repo}': not in the Hugging Face cache")
    assert f"hf download {repo} --repo-type dataset\n" in message
    assert "--data-dir" in message and "klue/ynat/ynat_train.tsv" in message and "klue/ynat/ynat_test.tsv" in message
    assert isinstance(err.value, DataError) and isinstance(err.value, ValueError)


# --------------------------------------------------------------------------------------
# Bad input: the message names the file or field, the value and the fix
# --------------------------------------------------------------------------------------


def test_unknown_label_names_file_value_and_known_labels(shared_data, tmp_path):
    rows = [{"premise": "p", "hypothesis": "h", "gold_label": "entailment"}, {"premise": "p", "hypothesis": "h", "gold_label": "maybe"}]
    (tmp_path / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    local = task("klue/nli").dataset.local.model_dump()
    local["files"]["validation"].update(path="bad.jsonl", format="jsonl")
    spec = write_spec(tmp_path, "klue/nli", local=local)
    with pytest.raises(DataError) as err:
        data.load(spec, tmp_path)
    message = str(err.value)
    assert "bad.jsonl" in message and "row 1" in message and "'maybe'" in message
    assert "['entailment', 'contradiction', 'neutral']" in message and "dataset.labels" in message


def test_label_map_miss_names_the_label_map(shared_data, tmp_path):
    local = task("glue/sst2").dataset.local.model_dump()
    local["files"]["validation"]["label_map"] = {"0": "negative"}  # '1' forgotten
    spec = write_spec(tmp_path, "glue/sst2", local=local)
    with pytest.raises(DataError, match=r"label '1' is not in the label_map.*dataset\.local\.files\.validation\.label_map"):
        data.load(spec, shared_data)


def test_missing_local_file_names_path_spec_and_field(tmp_path):
    spec = task("glue/mrpc")
    with pytest.raises(DataError) as err:
        data.load(spec, tmp_path)
    message = str(err.value)
    assert message.startswith("glue/MRPC/train.tsv: file not found under --data-dir")
    assert str(tmp_path) not in message  # named relative to --data-dir: failure records are published
    assert "tasks/glue/mrpc.yaml: dataset.local.files.train.path" in message  # the task file, relative


def test_missing_column_lists_the_columns(shared_data, tmp_path):
    local = task("glue/qnli").dataset.local.model_dump()
    local["files"]["validation"]["columns"]["text_b"] = "passage"
    spec = write_spec(tmp_path, "glue/qnli", local=local)
    with pytest.raises(DataError, match=r"no column 'passage'; the row has: index, question, sentence, label"):
        data.load(spec, shared_data)


def test_glue_tsv_with_a_broken_row(tmp_path, shared_data):
    (tmp_path / "glue/SST-2").mkdir(parents=True)
    (tmp_path / "glue/SST-2/train.tsv").write_text("sentence\tlabel\ngood film\t1\nstray\ttab\t0\n", encoding="utf-8")
    (tmp_path / "glue/SST-2/dev.tsv").write_bytes((shared_data / "glue/SST-2/dev.tsv").read_bytes())
    with pytest.raises(DataError, match=r"train\.tsv:3: 3 fields"):
        data.load(task("glue/sst2"), tmp_path)


# --------------------------------------------------------------------------------------
# Carving one file: seeded, stratified, stable
# --------------------------------------------------------------------------------------


def sorted_csv_spec(tmp_path, rows_a=70, rows_b=30):
    """A one-file sentence task whose csv is sorted by label (all 'negative' rows, then all 'positive')."""
    lines = ["sentence,label"] + [f"negative text {i},0" for i in range(rows_a)] + [f"positive text {i},1" for i in range(rows_b)]
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "sorted.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    file = {"path": "sorted.csv", "format": "csv", "columns": {"text_a": "sentence", "label": "label"},
            "label_map": {"0": "negative", "1": "positive"}}
    local = {"files": {"train": file}, "train": "train[:80%]", "validation": "train[80%:]"}
    return write_spec(tmp_path, "glue/sst2", local=local, hub=None)


def test_a_label_sorted_file_carves_into_two_stratified_sides(tmp_path):
    loaded = data.load(sorted_csv_spec(tmp_path), tmp_path / "data")
    assert loaded.carved and (loaded.train_examples, loaded.validation_examples) == (80, 20)
    # the same 70:30 proportions on both sides, where file order would score on 'positive' alone
    assert loaded.label_counts == {"train": {"negative": 56, "positive": 24}, "validation": {"negative": 14, "positive": 6}}
    train, scored = (set(loaded.dataset[s]["text_a"]) for s in ("train", "validation"))
    assert not train & scored and len(train | scored) == 100
    assert "stratified by label" in loaded.note


@pytest.mark.parametrize("rows_a, rows_b", [(70, 30), (97, 3), (500, 500), (1, 9)])
@pytest.mark.parametrize("cut", [10, 33, 80, 95])
def test_every_prefix_of_the_carve_order_is_stratified(rows_a, rows_b, cut):
    labels = [0] * rows_a + [1] * rows_b
    order = carving.carve_order(len(labels), labels)
    assert sorted(order) == list(range(len(labels)))
    n = round(cut * len(labels) / 100)
    for label, size in ((0, rows_a), (1, rows_b)):
        assert abs(sum(labels[i] == label for i in order[:n]) - n * size / len(labels)) <= 1


def test_the_carve_order_is_pinned():
    """The order depends on sha256 and integers only; a change here reorders every carved task's rows."""
    assert carving.carve_order(10, [0] * 6 + [1] * 4) == [4, 7, 3, 9, 2, 0, 8, 5, 6, 1]
    assert carving.carve_order(6) == [4, 3, 2, 0, 5, 1]


def test_the_official_carves_keep_every_label_in_proportion(shared_data):
    for task_id in ("klue/nli", "glue/qnli"):
        spec = task(task_id)
        whole = carving.label_counts(data.read_local_file(spec, "validation", shared_data), spec.head, spec.dataset.labels)
        counts = data.load(spec, shared_data).label_counts
        scored_rows, total_rows = sum(counts["validation"].values()), sum(whole.values())
        for name, total in whole.items():
            assert counts["train"][name] + counts["validation"][name] == total
            assert abs(counts["validation"][name] - total * scored_rows / total_rows) <= 1


def test_a_user_split_keeps_file_order(tmp_path):
    spec = sorted_csv_spec(tmp_path)
    loaded = data.load(spec, tmp_path / "data", train_split="train[:80%]", eval_split="train[80%:]", allow_single_class=True)
    assert not loaded.carved and loaded.dataset["validation"]["text_a"][0] == "positive text 10"


def test_a_single_class_scored_split_is_refused_unless_asked(tmp_path):
    spec = sorted_csv_spec(tmp_path)
    with pytest.raises(DataError, match=r"scored split \(train\[80%:\], 20 rows\) holds only the label 'positive'.*--allow-single-class"):
        data.load(spec, tmp_path / "data", train_split="train[:80%]", eval_split="train[80%:]")
    warned = []
    loaded = data.load(spec, tmp_path / "data", train_split="train[:80%]", eval_split="train[80%:]",
                       allow_single_class=True, warn=warned.append)
    assert loaded.label_counts["validation"] == {"negative": 0, "positive": 20}
    assert warned == [f"{spec.id}: {w}" for w in loaded.warnings] and "has no rows labelled negative" in warned[0]


def test_scored_rows_that_repeat_train_text_are_warned(tmp_path):
    spec = sorted_csv_spec(tmp_path)
    path = tmp_path / "data" / "sorted.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(rows + rows[1:]) + "\n", encoding="utf-8")  # every row twice
    loaded = data.load(spec, tmp_path / "data", warn=lambda message: None)
    assert any("also appear in train with the same text" in w for w in loaded.warnings)


# --------------------------------------------------------------------------------------
# Fingerprints: the data's content, not where it lies
# --------------------------------------------------------------------------------------


def test_editing_a_data_file_changes_the_fingerprint(tmp_path):
    spec = sorted_csv_spec(tmp_path)
    before = data.load(spec, tmp_path / "data")
    assert before.files == (data.FileDigest("sorted.csv", hashlib.sha256((tmp_path / "data/sorted.csv").read_bytes()).hexdigest()),)
    path = tmp_path / "data" / "sorted.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("negative text 3,", "negative text three,"), encoding="utf-8")
    after = data.load(spec, tmp_path / "data")
    assert after.fingerprint != before.fingerprint and after.files[0].sha256 != before.files[0].sha256


def test_the_same_files_elsewhere_have_the_same_fingerprint(tmp_path):
    spec = sorted_csv_spec(tmp_path)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "sorted.csv").write_bytes((tmp_path / "data" / "sorted.csv").read_bytes())
    here, there = data.load(spec, tmp_path / "data"), data.load(spec, tmp_path / "copy")
    assert here.fingerprint == there.fingerprint and here.files == there.files
    assert str(tmp_path) not in repr((here.source, here.files, here.note, here.warnings))


def test_splits_and_limits_change_the_fingerprint(shared_data):
    spec = task("glue/mrpc")
    prints = {
        data.load(spec, shared_data).fingerprint,
        data.load(spec, shared_data, train_split="train[:50%]").fingerprint,
        data.load(spec, shared_data, limit=100).fingerprint,
    }
    assert len(prints) == 3


# --------------------------------------------------------------------------------------
# Hostile and broken files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "a/../../outside.csv", "C:\\Windows\\win.ini"])
def test_local_paths_stay_inside_the_data_dir(tmp_path, path):
    local = task("glue/sst2").dataset.local.model_dump()
    local["files"]["validation"]["path"] = path
    spec = write_spec(tmp_path, "glue/sst2", local=local)
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match=r"dataset.local.files.validation.path: .* must be a path relative to its folder"):
        data.read_local_file(spec, "validation", tmp_path / "data")


def test_a_link_inside_the_data_dir_is_the_users_choice(tmp_path, shared_data):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "glue").symlink_to(shared_data / "glue")
    assert len(data.read_local_file(task("glue/mrpc"), "validation", tmp_path / "data")) == 408


def one_file_spec(tmp_path, name, fmt, columns=None, **extra):
    local = task("klue/nli").dataset.local.model_dump()
    local["files"]["validation"].update(path=name, format=fmt, **extra)
    if columns:
        local["files"]["validation"]["columns"] = columns
    return write_spec(tmp_path, "klue/nli", local=local)


def test_truncated_klue_json_names_the_file(tmp_path, shared_data):
    raw = (shared_data / "klue/nli/klue-nli-v1.1_dev.json").read_bytes()
    (tmp_path / "nli.json").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"^nli.json: not valid JSON at line \d+, column \d+: .*truncated"):
        data.read_local_file(one_file_spec(tmp_path, "nli.json", "klue-json"), "validation", tmp_path)


def test_klue_json_that_is_not_utf8_names_the_file(tmp_path, shared_data):
    text = (shared_data / "klue/nli/klue-nli-v1.1_dev.json").read_text(encoding="utf-8")
    (tmp_path / "nli.json").write_bytes(text[:5000].encode("cp949", errors="replace"))
    with pytest.raises(DataError, match=r"^nli.json: not UTF-8 text \(byte 0x[0-9a-f]{2} at offset \d+\); save the file as UTF-8"):
        data.read_local_file(one_file_spec(tmp_path, "nli.json", "klue-json"), "validation", tmp_path)


def test_errors_quote_at_most_the_offending_field(tmp_path):
    secret = "root:x:0:0:SECRET-CONTENT:/root:/bin/bash"
    (tmp_path / "ner.tsv").write_text(f"## guid\tsentence\n{secret}\n", encoding="utf-8")
    spec = write_spec(tmp_path, "klue/ner")
    local = spec.dataset.local.model_dump()
    local["files"]["validation"]["path"] = "ner.tsv"
    spec = write_spec(tmp_path, "klue/ner", local=local)
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "validation", tmp_path)
    assert str(err.value).startswith("ner.tsv:2: expected 'char<TAB>TAG'") and "SECRET" not in str(err.value)
    long_label = "x" * 5000
    (tmp_path / "bad.jsonl").write_text(json.dumps({"premise": "p", "hypothesis": "h", "gold_label": long_label}) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        data.read_local_file(one_file_spec(tmp_path, "bad.jsonl", "jsonl"), "validation", tmp_path)
    assert "bad.jsonl" in str(err.value) and len(str(err.value)) < 600


def test_a_broken_csv_names_the_file(tmp_path):
    (tmp_path / "bad.csv").write_text('premise,hypothesis,gold_label\n"unclosed,h,entailment\n', encoding="utf-8")
    columns = {"text_a": "premise", "text_b": "hypothesis", "label": "gold_label"}
    with pytest.raises(DataError, match=r"^bad.csv: not a readable csv file"):
        data.read_local_file(one_file_spec(tmp_path, "bad.csv", "csv", columns), "validation", tmp_path)


def test_the_spec_hash_ignores_comments_and_key_order_but_not_values(tmp_path):
    original = task("glue/mrpc")
    raw = yaml.safe_load(open(original.path, encoding="utf-8"))
    folder = tmp_path / "tasks" / "glue"
    folder.mkdir(parents=True)

    def spec_from(text):
        (folder / "mrpc.yaml").write_text(text, encoding="utf-8")
        return load_spec(folder / "mrpc.yaml").sha256

    plain = spec_from(yaml.safe_dump(raw, allow_unicode=True, sort_keys=True))
    assert plain == original.sha256  # the file as shipped, re-serialised: the same spec
    reordered = yaml.safe_dump(dict(reversed(list(raw.items()))), allow_unicode=True, sort_keys=False)
    assert spec_from("# a comment a reader added\n" + reordered) == plain
    raw["hyperparameters"]["epochs"] += 1
    assert spec_from(yaml.safe_dump(raw, allow_unicode=True)) != plain


def test_bench_run_reruns_after_a_data_edit_but_not_after_a_comment(tmp_path, tiny_english_bert):
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.core.paths import SAMPLES_DIR

    (tmp_path / "data/glue").mkdir(parents=True)
    shutil.copytree(SAMPLES_DIR / "glue/SST-2", tmp_path / "data/glue/SST-2")
    task_file = tmp_path / "tasks/mine/sst2.yaml"
    task_file.parent.mkdir(parents=True)
    task_file.write_text("include: glue/sst2\n", encoding="utf-8")

    def run():
        args = ["run", "--model", str(tiny_english_bert), "--tasks", "mine/sst2", "--tasks-dir", str(tmp_path / "tasks"),
                "--data-dir", str(tmp_path / "data"), "--set", "epochs=1", "--limit", "16", "--eval-limit", "16",
                "--output", str(tmp_path / "results")]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "skipped" not in run()
    task_file.write_text("# a note a reader added\ninclude: glue/sst2\n", encoding="utf-8")
    assert "skipped" in run()  # a comment changes nothing
    train = tmp_path / "data/glue/SST-2/train.tsv"
    train.write_text(train.read_text(encoding="utf-8").replace("hide new secretions", "hide old secretions"), encoding="utf-8")
    assert "skipped" not in run()  # the data did change
