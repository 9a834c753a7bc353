"""Every local file format: the table in docs/adding-a-task.md is complete and each example reads;
the conll reader on a real CoNLL file made from KLUE-NER dev."""

import re
from pathlib import Path

import pytest
import yaml
from seqeval.metrics.sequence_labeling import get_entities

from harness.core import paths
from harness.tasks import data, spec
from harness.tasks.spec import LocalFile

DOC = paths.REPO_ROOT / "docs" / "adding-a-task.md"


def documented_formats() -> dict[str, str]:
    """format -> its example, from the table rows '| `format` | what | `example` |'."""
    rows = re.findall(r"^\| `([a-z-]+)` \| [^|]+ \| `(.+)` \|$", DOC.read_text(encoding="utf-8"), re.M)
    return {name: example.replace("\\t", "\t").replace("\\n", "\n") for name, example in rows}


def read(path: Path, file: LocalFile) -> list[dict]:
    """A file through its format's reader, as data.load calls it: decoded text and a name for messages."""
    return data.READERS[file.format](path.read_text(encoding="utf-8"), path.name, file)


def test_the_docs_list_every_format_the_schema_and_readers_know():
    schema = set(LocalFile.model_fields["format"].annotation.__args__)
    assert set(documented_formats()) == set(data.READERS) == schema


COLUMNS = {  # how a task would map each documented example
    "klue-json": {"text_a": "title", "label": "label"},
    "klue-ner-tsv": {"tokens": "tokens", "tags": "tags"},
    "glue-tsv": {"text_a": "#1 String", "text_b": "#2 String", "label": "Quality"},
    "csv": {"text_a": "sentence1", "text_b": "sentence2", "label": "label"},
    "tsv": {"text_a": "text", "label": "label"},
    "jsonl": {"text_a": "sentence", "label": "label"},
    "conll": {"tokens": "tokens", "tags": "tags"},
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_each_documented_example_reads(tmp_path, name):
    example = documented_formats()[name]
    path = tmp_path / f"example.{name}"
    path.write_text(example, encoding="utf-8")
    file = LocalFile(path=path.name, format=name, columns=COLUMNS[name])
    records = read(path, file)
    assert len(records) == 1
    for field in COLUMNS[name].values():
        assert records[0][field] not in ("", [], None), (name, field)
    if name == "conll":  # -DOCSTART- skipped, tag from the last column
        assert records[0] == {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]}


# --------------------------------------------------------------------------------------
# conll on a real file: KLUE-NER dev, rewritten as word-level CoNLL-2003 columns
# --------------------------------------------------------------------------------------


def klue_ner_words(records: list[dict]) -> list[tuple[list[str], list[str]]]:
    """KLUE-NER character sentences -> (words, word tags): a word takes its first character's tag,
    and an I- tag that starts a word after a space is kept, since the entity goes on across it."""
    sentences = []
    for r in records:
        words, tags, current = [], [], ""
        for char, tag in zip(r["tokens"], r["tags"]):
            if char == " ":
                current = ""
                continue
            if not current:
                words.append("")
                tags.append(tag)
            words[-1] += char
            current = words[-1]
        sentences.append((words, tags))
    return sentences


@pytest.fixture(scope="module")
def conll_from_klue_ner(shared_data, tmp_path_factory) -> tuple[Path, list]:
    dev = LocalFile(path="klue/ner/klue-ner-v1.1_dev.tsv", format="klue-ner-tsv", columns={"tokens": "tokens", "tags": "tags"})
    chars = read(shared_data / dev.path, dev)[:300]
    sentences = klue_ner_words(chars)
    folder = tmp_path_factory.mktemp("conll")
    lines = ["-DOCSTART- -X- -X- O", ""]
    for i, (words, tags) in enumerate(sentences):
        if i == 150:  # a second document in the middle, as CoNLL-2003 has them
            lines += ["-DOCSTART- -X- -X- O", ""]
        lines += [f"{w} X _ {t}" for w, t in zip(words, tags)] + [""]
    (folder / "ner.conll").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, sentences


def test_conll_reads_klue_ner_dev_rewritten_as_words(conll_from_klue_ner):
    folder, sentences = conll_from_klue_ner
    file = LocalFile(path="ner.conll", format="conll")
    records = read(folder / "ner.conll", file)
    assert len(records) == len(sentences) == 300
    assert [(r["tokens"], r["tags"]) for r in records] == sentences
    entities = sum(len(get_entities(tags)) for _, tags in sentences)
    assert entities > 300  # real entities came through, not just O


def test_a_conll_task_loads_by_include_with_tag_names_checked(conll_from_klue_ner, tmp_path):
    folder, sentences = conll_from_klue_ner
    task = tmp_path / "tasks" / "mine" / "ner_words.yaml"
    task.parent.mkdir(parents=True)
    task.write_text(yaml.safe_dump({
        "include": "klue/ner",
        "dataset": {"hub": None, "local": {"files": {"validation": {"path": "ner.conll", "format": "conll",
                                                                     "token_column": 0, "tag_column": 3}}}},
    }), encoding="utf-8")
    ner_words = spec.load_tasks(["mine/ner_words"], [paths.TASKS_DIR, tmp_path / "tasks"])[0]
    assert ner_words.includes == "klue/ner" and "dataset.local.files.validation.format" in ner_words.changed_keys
    loaded = data.load(ner_words, folder)
    assert loaded.train_examples == 240 and loaded.validation_examples == 60  # klue/ner's 80/20 carve
    labels = ner_words.dataset.labels
    rows = [*loaded.dataset["train"], *loaded.dataset["validation"]]
    as_read = sorted((r["tokens"], [labels[i] for i in r["tags"]]) for r in rows)
    assert as_read == sorted(sentences)  # every sentence once, its tag names mapped to the spec's labels


def test_conll_names_the_line_when_a_column_is_missing(tmp_path):
    path = tmp_path / "short.conll"
    path.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(data.DataError, match=r"short.conll:2: 1 field\(s\), but token_column is 0 and tag_column 1"):
        read(path, LocalFile(path="short.conll", format="conll", tag_column=1))


def test_conll_options_belong_to_conll_only():
    with pytest.raises(ValueError, match="token_column, separator: only for format conll"):
        LocalFile(path="x.tsv", format="tsv", columns={"text_a": "a", "label": "b"}, token_column=1, separator="\t")


@pytest.mark.parametrize("line, message", [
    ('{"sentence": "a", "label": NaN}', r"data\.jsonl:2: not standard JSON: NaN is not a number"),
    ('["a", 1]', r"data\.jsonl:2: a jsonl line holds one JSON object per example, got a JSON list"),
    ('{"sentence": "a", "label": ', r"data\.jsonl:2: not valid JSON at line 1, column \d+"),
])
def test_a_bad_jsonl_line_is_named_by_its_line(tmp_path, line, message):
    path = tmp_path / "data.jsonl"
    path.write_text('{"sentence": "fine", "label": 1}\n' + line + "\n", encoding="utf-8")
    file = LocalFile(path=path.name, format="jsonl", columns=COLUMNS["jsonl"])
    with pytest.raises(data.DataError, match=message):
        read(path, file)
