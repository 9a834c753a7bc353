"""The local file readers of harness/tasks/data on small synthetic files: the exact rows and labels
each format gives (header or not, quoting, delimiters, blank and comment lines, sentence breaks,
BOM, line endings, a last line with or without its newline), and the full text of the error a
user gets for a broken file: the file, the line or row, the field and the fix.

Every file here is synthetic and a few lines long; the task is fixture/task-a."""

import hashlib
import json

import pytest

from harness.tasks import carving, data
from harness.tasks.data import DataError, FileDigest, local_files, readers
from harness.tasks.spec import LocalFile, TaskSpec

SPEC_SHOWN = ".../fixture/task-a.yaml"  # how messages name the fixture's task file (outside the working folder)

HEADS = {
    "sequence-classification": ({"primary": "accuracy"}, ["negative", "positive"]),
    "token-classification": ({"primary": "entity_f1"}, ["B-ORG", "I-ORG", "B-LOC", "O"]),
    "regression": ({"primary": "spearman"}, None),
}


def fixture_spec(tmp_path, files, head="sequence-classification", train="train", validation="validation"):
    """fixture/task-a (synthetic): a task whose data are the local ``files`` (split -> LocalFile fields)."""
    metrics, labels = HEADS[head]
    return TaskSpec.model_validate({
        "id": "fixture/task-a", "name": "Fixture task A", "suite": "fixture", "language": "en",
        "description": "synthetic fixture", "head": head, "metrics": metrics,
        "hyperparameters": {"learning_rate": 1e-5, "batch_size": 8, "epochs": 1, "warmup_ratio": 0.0,
                            "weight_decay": 0.0, "max_length": 32},
        "dataset": {"labels": labels, "local": {"files": files, "train": train, "validation": validation}},
        "path": str(tmp_path / "tasks" / "fixture" / "task-a.yaml"),
    })


def sentence_file(path, fmt="csv", **extra):
    columns = extra.pop("columns", {"text_a": "sentence", "label": "label"})
    return {"path": path, "format": fmt, "columns": columns, "label_map": {"0": "negative", "1": "positive"}, **extra}


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def rows(dataset):
    return [dict(r) for r in dataset]


# --------------------------------------------------------------------------------------
# csv and tsv: pandas' reader, ordinary quoting
# --------------------------------------------------------------------------------------


def delimited(fmt):
    """The csv or tsv reader, made now. READERS holds ones made when harness.tasks.data was imported;
    a fresh one runs the reader's current code (a mutation run changes code after import)."""
    return readers._read_delimited({"csv": ",", "tsv": "\t"}[fmt])


def test_the_registered_csv_and_tsv_readers_read_like_fresh_ones():
    file = LocalFile(path="d.csv", format="csv", columns={"text_a": "a"})
    for fmt, text in (("csv", 'a,b\n"x, y",1\n'), ("tsv", "a\tb\nx, y\t1\n")):
        assert data.READERS[fmt](text, "d", file) == delimited(fmt)(text, "d", file) == [{"a": "x, y", "b": "1"}]


def test_csv_with_a_header_keeps_every_field_as_the_text_written():
    text = 'sentence,label\n"Hello, world",1\nNA,0\nnull,1\n"He said ""hi""",0\n,1\n'
    file = LocalFile(path="data.csv", format="csv", columns={"text_a": "sentence", "label": "label"})
    assert delimited("csv")(text, "data.csv", file) == [
        {"sentence": "Hello, world", "label": "1"},  # labels stay strings until the label_map
        {"sentence": "NA", "label": "0"},  # "NA" and "null" are words, not missing values
        {"sentence": "null", "label": "1"},
        {"sentence": 'He said "hi"', "label": "0"},
        {"sentence": "", "label": "1"},
    ]


def test_csv_with_crlf_and_no_final_newline():
    file = LocalFile(path="data.csv", format="csv", columns={"text_a": "s"})
    assert delimited("csv")("s,label\r\nfirst,0\r\nlast,1", "data.csv", file) == [
        {"s": "first", "label": "0"}, {"s": "last", "label": "1"}]


def test_tsv_without_a_header_takes_the_spec_names_and_keeps_commas_in_text():
    file = LocalFile(path="data.tsv", format="tsv", columns={"text_a": "text"}, header=False, names=["text", "label"])
    text = "hello, world\t1\nfine, thanks\t0\n"
    assert delimited("tsv")(text, "data.tsv", file) == [
        {"text": "hello, world", "label": "1"}, {"text": "fine, thanks", "label": "0"}]


def test_csv_without_a_header_keeps_its_first_row():
    file = LocalFile(path="data.csv", format="csv", columns={"text_a": "text"}, header=False, names=["text", "label"])
    assert delimited("csv")("one,0\ntwo,1\n", "data.csv", file) == [
        {"text": "one", "label": "0"}, {"text": "two", "label": "1"}]


@pytest.mark.parametrize("fmt, text", [("csv", "a,b\nx,1\n"), ("tsv", "a\tb\nx\t1\n")])
def test_names_with_a_header_rename_the_columns_and_skip_the_header(fmt, text):
    file = LocalFile(path=f"data.{fmt}", format=fmt, columns={"text_a": "text"}, names=["text", "label"])
    assert delimited(fmt)(text, file.path, file) == [{"text": "x", "label": "1"}]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_without_header_or_names_say_to_list_the_names(fmt):
    file = LocalFile(path=f"data.{fmt}", format=fmt, columns={"text_a": "text"}, header=False)
    with pytest.raises(DataError) as err:
        delimited(fmt)("one,0\n", f"sub/data.{fmt}", file)
    assert str(err.value) == f"sub/data.{fmt}: header is false, so list the column names in the spec's 'names' field"


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_a_row_with_an_extra_field_is_named_by_its_line(fmt, sep):
    text = sep.join(["sentence", "label"]) + "\n" + sep.join(["fine", "0"]) + "\n" + sep.join(["Hello", " world", "1"]) + "\n"
    file = LocalFile(path=f"data.{fmt}", format=fmt, columns={"text_a": "sentence"})
    with pytest.raises(DataError) as err:
        delimited(fmt)(text, f"data.{fmt}", file)
    assert str(err.value) == (  # pandas' message, without the newline it ends with
        f"data.{fmt}: not a readable {fmt} file: Error tokenizing data. C error: Expected 2 fields in line 3, saw 3")


@pytest.mark.parametrize("text, header, message", [
    # every row holds an unquoted comma: pandas would read ' world' as the sentence and drop 'Hello'
    ("sentence,label\nHello, world,1\nGood, film,0\n", True, "3 fields in a row, but the columns are ['sentence', 'label']"),
    ("Hello, world,1\n", False, "3 fields in a row, but the columns are ['sentence', 'label']"),
    ("a, b, c,1\n", False, "4 fields in a row, but the columns are ['sentence', 'label']"),
])
def test_rows_wider_than_the_columns_are_refused_not_cut(text, header, message):
    file = LocalFile(path="data.csv", format="csv", columns={"text_a": "sentence"}, header=header,
                     names=None if header else ["sentence", "label"])
    with pytest.raises(DataError) as err:
        delimited("csv")(text, "data.csv", file)
    assert str(err.value) == (f"data.csv: {message}; quote each field that holds a comma, "
                              "or name every column in the spec's 'names'")
    tsv = LocalFile(path="data.tsv", format="tsv", columns={"text_a": "a"})
    with pytest.raises(DataError, match=r"^data\.tsv: 3 fields in a row, but the columns are \['a', 'b'\]; quote each field that holds a tab,"):
        delimited("tsv")("a\tb\nx\ty\t1\n", "data.tsv", tsv)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_an_empty_csv_or_tsv_says_it_has_no_columns(fmt):
    file = LocalFile(path=f"data.{fmt}", format=fmt, columns={"text_a": "sentence"})
    with pytest.raises(DataError) as err:
        delimited(fmt)("", f"data.{fmt}", file)
    assert str(err.value) == f"data.{fmt}: not a readable {fmt} file: No columns to parse from file"


# --------------------------------------------------------------------------------------
# glue-tsv: quoting off, rows counted for messages
# --------------------------------------------------------------------------------------


def glue(**extra):
    return LocalFile(path="dev.tsv", format="glue-tsv", columns={"text_a": "text", "label": "label"}, **extra)


def test_glue_tsv_keeps_unbalanced_quotes_and_every_row():
    text = 'text\tlabel\n"unbalanced quote\t1\nnext "row"\t0\nlast\t1'
    assert data.READERS["glue-tsv"](text, "dev.tsv", glue()) == [
        {"text": '"unbalanced quote', "label": "1"}, {"text": 'next "row"', "label": "0"}, {"text": "last", "label": "1"}]


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_glue_tsv_reads_other_line_endings(newline):
    text = newline.join(["text\tlabel", "a\t1", '"b\t0', ""])
    assert data.READERS["glue-tsv"](text, "dev.tsv", glue()) == [{"text": "a", "label": "1"}, {"text": '"b', "label": "0"}]


def test_glue_tsv_names_replace_the_header_and_name_the_columns_without_one():
    assert data.READERS["glue-tsv"]("a\tb\nx\t1\r\n", "dev.tsv", glue(names=["text", "label"])) == [{"text": "x", "label": "1"}]
    assert data.READERS["glue-tsv"]("x\t1\ny\t0\n", "dev.tsv", glue(header=False, names=["text", "label"])) == [
        {"text": "x", "label": "1"}, {"text": "y", "label": "0"}]


@pytest.mark.parametrize("text, extra, message", [
    ("text\tlabel\nok\t1\nbroken\n", {}, "dev.tsv:3: 1 fields, but the columns are ['text', 'label']"),
    ("ok\t1\nx\ty\t0\n", {"header": False, "names": ["text", "label"]}, "dev.tsv:2: 3 fields, but the columns are ['text', 'label']"),
    ("", {}, "dev.tsv: the file is empty; header is true, so its first line names the columns"),
    ("ok\t1\n", {"header": False}, "dev.tsv: header is false, so list the column names in the spec's 'names' field"),
])
def test_glue_tsv_errors_name_the_line_and_the_fix(text, extra, message):
    with pytest.raises(DataError) as err:
        data.READERS["glue-tsv"](text, "dev.tsv", glue(**extra))
    assert str(err.value) == message


# --------------------------------------------------------------------------------------
# jsonl and klue-json
# --------------------------------------------------------------------------------------

JSONL = LocalFile(path="data.jsonl", format="jsonl", columns={"text_a": "s"})


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_jsonl_skips_blank_lines_whatever_the_line_ending(newline):
    text = newline.join(['{"s": "a", "label": 1}', "", "  ", '{"s": "b"}', ""])
    assert data.READERS["jsonl"](text, "data.jsonl", JSONL) == [{"s": "a", "label": 1}, {"s": "b"}]


def test_jsonl_errors_count_blank_lines_too():
    with pytest.raises(DataError) as err:
        data.READERS["jsonl"]('{"s": "a"}\n\n[1, 2]\n', "data.jsonl", JSONL)
    assert str(err.value) == "data.jsonl:3: a jsonl line holds one JSON object per example, got a JSON list"
    with pytest.raises(DataError) as err:
        data.READERS["jsonl"]('{"s": "a"}\r{"s": \r', "data.jsonl", JSONL)
    assert str(err.value) == "data.jsonl:2: not valid JSON at line 1, column 6: Expecting value (a truncated file?)"


def test_broken_klue_json_names_the_file():
    file = LocalFile(path="data.json", format="klue-json", columns={"text_a": "s"})
    with pytest.raises(DataError) as err:
        data.READERS["klue-json"]('[{"s": "a"},\n', "sub/data.json", file)
    assert str(err.value) == "sub/data.json: not valid JSON at line 2, column 1: Expecting value (a truncated file?)"


def test_klue_json_is_one_list_of_examples():
    file = LocalFile(path="data.json", format="klue-json", columns={"text_a": "s"})
    assert data.READERS["klue-json"]('[{"s": "a"}, {"s": "b"}]', "data.json", file) == [{"s": "a"}, {"s": "b"}]
    with pytest.raises(DataError) as err:
        data.READERS["klue-json"]('{"data": []}', "data.json", file)
    assert str(err.value) == "data.json: a klue-json file holds a list of examples, got a JSON dict"


# --------------------------------------------------------------------------------------
# conll
# --------------------------------------------------------------------------------------


def conll(**extra):
    return LocalFile(path="ner.conll", format="conll", **extra)


def test_conll_sentences_break_at_blank_lines_and_docstart():
    text = "-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\n\n  \nBonn NNP B-LOC\n-DOCSTART- -X- O O\nPeter NNP B-PER"
    assert data.READERS["conll"](text, "ner.conll", conll()) == [
        {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]},
        {"tokens": ["Bonn"], "tags": ["B-LOC"]},
        {"tokens": ["Peter"], "tags": ["B-PER"]},  # the last sentence, with no newline after it
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_conll_reads_any_line_ending(newline):
    text = newline.join(["EU\tB-ORG", "rejects O", "", "Bonn B-LOC", ""])
    assert data.READERS["conll"](text, "ner.conll", conll()) == [
        {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]}, {"tokens": ["Bonn"], "tags": ["B-LOC"]}]


def test_conll_with_a_tab_separator_keeps_spaces_and_reads_the_chosen_columns():
    text = "B-LOC\tNNP\tNew York\r\nO\tSP\t \nB-ORG\tNN\tFAX\n\nO\t.\t.\n"
    file = conll(separator="\t", token_column=2, tag_column=0)
    assert data.READERS["conll"](text, "ner.conll", file) == [
        {"tokens": ["New York", " ", "FAX"], "tags": ["B-LOC", "O", "B-ORG"]},
        {"tokens": ["."], "tags": ["O"]},
    ]


def test_conll_names_the_line_and_the_columns_that_do_not_fit():
    with pytest.raises(DataError) as err:
        data.READERS["conll"]("EU B-ORG\n\nrejects\n", "ner.conll", conll(tag_column=1))
    assert str(err.value) == ("ner.conll:3: 1 field(s), but token_column is 0 and tag_column 1 "
                              "(dataset.local.files.*: set them, or separator, to fit the file)")
    with pytest.raises(DataError) as err:
        data.READERS["conll"]("EU\tNNP\tB-ORG\n", "ner.conll", conll(separator="\t", token_column=3))
    assert str(err.value).startswith("ner.conll:1: 3 field(s), but token_column is 3 and tag_column -1 ")


# --------------------------------------------------------------------------------------
# klue-ner-tsv
# --------------------------------------------------------------------------------------

NER = LocalFile(path="ner.tsv", format="klue-ner-tsv", columns={"tokens": "tokens", "tags": "tags"})


def test_klue_ner_tsv_reads_sentences_after_the_comment_lines():
    text = ("## klue-ner\n## synthetic fixture\n## g-1\t<EU:OG> 간다\nE\tB-OG\nU\tI-OG\n \tO\n간\tO\n다\tO\n"
            "\t\n## g-2\t#1\n#\tO\n1\tO")  # a lone tab ends a sentence; no newline after the last line
    assert data.READERS["klue-ner-tsv"](text, "ner.tsv", NER) == [
        {"guid": "g-1", "sentence": "<EU:OG> 간다", "tokens": ["E", "U", " ", "간", "다"], "tags": ["B-OG", "I-OG", "O", "O", "O"]},
        {"guid": "g-2", "sentence": "#1", "tokens": ["#", "1"], "tags": ["O", "O"]},
    ]


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_klue_ner_tsv_reads_other_line_endings(newline):
    text = newline.join(["## g-1\tab", "a\tO", " \tO", "", "## g-2\tc", "c\tB-OG", ""])
    assert data.READERS["klue-ner-tsv"](text, "ner.tsv", NER) == [
        {"guid": "g-1", "sentence": "ab", "tokens": ["a", " "], "tags": ["O", "O"]},
        {"guid": "g-2", "sentence": "c", "tokens": ["c"], "tags": ["B-OG"]},
    ]


def test_klue_ner_tsv_keeps_the_marked_sentence_as_written():
    text = "## g-1\tFAX \tsent \nF\tO\n\n## \nX\tO\n\n## g-3\tTAX\nT\tO\n"  # all after the first tab, spaces kept
    assert data.READERS["klue-ner-tsv"](text, "ner.tsv", NER) == [
        {"guid": "g-1", "sentence": "FAX \tsent ", "tokens": ["F"], "tags": ["O"]},
        {"guid": "", "sentence": "", "tokens": ["X"], "tags": ["O"]},
        {"guid": "g-3", "sentence": "TAX", "tokens": ["T"], "tags": ["O"]},
    ]


def test_klue_ner_tsv_that_starts_with_a_character_line_says_what_is_missing():
    with pytest.raises(DataError) as err:
        data.READERS["klue-ner-tsv"]("a\tO\n", "ner.tsv", NER)
    assert str(err.value) == ("ner.tsv:1: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; "
                              "found no '## guid<TAB>sentence' line before it")


@pytest.mark.parametrize("text, found", [
    ("a\tO\n", "3: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found no '## guid<TAB>sentence' line before it"),
    ("## g\tab\nab\tO\n", "4: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found 2 tab-separated field(s), the first 2 character(s) long"),
    ("## g\tab\na\tO\tx\n", "4: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found 3 tab-separated field(s), the first 1 character(s) long"),
    ("## g\tab\na\tO\n## g2\tb\n", "5: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found 2 tab-separated field(s), the first 5 character(s) long"),
])
def test_klue_ner_tsv_errors_name_the_line(text, found):
    with pytest.raises(DataError) as err:
        data.READERS["klue-ner-tsv"]("## c\n\n" + text, "ner.tsv", NER)
    assert str(err.value) == "ner.tsv:" + found


# --------------------------------------------------------------------------------------
# Through the spec: the file is found, read by its format, mapped and named
# --------------------------------------------------------------------------------------


def test_a_local_file_becomes_canonical_rows_with_its_digest(tmp_path):
    raw = "\ufeffsentence,other,label\r\nfine film,x,1\r\n\"bad, bad\",y,0\r\n"  # saved with a BOM, as Excel does
    path = write(tmp_path, "sub/d.csv", raw)
    spec = fixture_spec(tmp_path, {"train": sentence_file("sub/./d.csv", columns={"text_a": "sentence", "text_b": "other", "label": "label"})})
    dataset, digest = local_files._read_local(spec, "train", tmp_path)
    assert rows(dataset) == [{"text_a": "fine film", "text_b": "x", "label": 1}, {"text_a": "bad, bad", "text_b": "y", "label": 0}]
    assert digest == FileDigest("sub/d.csv", hashlib.sha256(path.read_bytes()).hexdigest())
    assert rows(data.read_local_file(spec, "train", tmp_path)) == rows(dataset)


@pytest.mark.parametrize("fmt, text", [
    ("tsv", "sentence\tlabel\na, b\t1\n"),
    ("glue-tsv", 'sentence\tlabel\n"a, b\t1\n'),
    ("jsonl", '{"sentence": "a, b", "label": 1}\n'),
    ("klue-json", '[{"sentence": "a, b", "label": "1"}]'),
])
def test_the_spec_format_picks_the_reader(tmp_path, fmt, text):
    write(tmp_path, "d.txt", text)
    spec = fixture_spec(tmp_path, {"train": sentence_file("d.txt", fmt)})
    expected = '"a, b' if fmt == "glue-tsv" else "a, b"
    assert rows(data.read_local_file(spec, "train", tmp_path)) == [{"text_a": expected, "label": 1}]


def test_a_token_task_reads_conll_tags_by_name(tmp_path):
    write(tmp_path, "ner.conll", "EU B-ORG\nrejects O\n\nBonn B-LOC\n")
    spec = fixture_spec(tmp_path, {"validation": {"path": "ner.conll", "format": "conll"}}, head="token-classification")
    assert rows(data.read_local_file(spec, "validation", tmp_path)) == [
        {"tokens": ["EU", "rejects"], "tags": [0, 3]}, {"tokens": ["Bonn"], "tags": [2]}]


def test_a_regression_task_reads_scores_as_numbers(tmp_path):
    write(tmp_path, "sts.csv", "a,b,score\nx,y,3.5\nz,w,0\n")
    columns = {"text_a": "a", "text_b": "b", "label": "score"}
    spec = fixture_spec(tmp_path, {"train": {"path": "sts.csv", "format": "csv", "columns": columns}}, head="regression")
    assert rows(data.read_local_file(spec, "train", tmp_path)) == [
        {"text_a": "x", "text_b": "y", "label": 3.5}, {"text_a": "z", "text_b": "w", "label": 0.0}]
    write(tmp_path, "sts.csv", "a,b,score\nx,y,3.5\nz,w,n/a\n")
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == "sts.csv (dataset.local.files.train), row 1: the regression label 'n/a' is not a number"


def test_a_missing_column_names_the_file_row_and_the_columns_it_has(tmp_path):
    write(tmp_path, "d.csv", "sentence,label\nfine,1\n")
    spec = fixture_spec(tmp_path, {"train": sentence_file("d.csv", columns={"text_a": "sentence", "text_b": "second", "label": "label"})})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == ("d.csv (dataset.local.files.train), row 0: no column 'second'; the row has: sentence, label "
                              "(fix the spec's columns mapping)")


def test_a_missing_file_names_itself_the_task_and_the_spec_field(tmp_path):
    spec = fixture_spec(tmp_path, {"train": sentence_file("sub\\gone.csv"), "validation": sentence_file("v.csv")})
    with pytest.raises(DataError) as err:
        data.load(spec, tmp_path)
    assert str(err.value) == (f"sub/gone.csv: file not found under --data-dir; task fixture/task-a names it in "
                              f"{SPEC_SHOWN}: dataset.local.files.train.path")


def test_a_path_that_leaves_the_data_dir_is_refused_with_its_spec_field(tmp_path):
    spec = fixture_spec(tmp_path, {"train": sentence_file("sub/../../t.csv")})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path / "data")
    assert str(err.value) == (f"{SPEC_SHOWN}: dataset.local.files.train.path: 'sub/../../t.csv' must be a path relative to "
                              "its folder that stays inside it (no leading '/', drive letter or '..'); "
                              "to use files from elsewhere, link them into the folder")


def test_a_file_that_cannot_be_read_names_itself(tmp_path, monkeypatch):
    write(tmp_path, "sub/d.csv", "sentence,label\nfine,1\n")
    spec = fixture_spec(tmp_path, {"train": sentence_file("sub/d.csv")})

    def refuse(path):  # what a file without read permission gives a user who is not root
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(type(tmp_path), "read_bytes", refuse)
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == "sub/d.csv: cannot be read (Permission denied)"


def test_a_reader_error_names_the_file_as_the_spec_gives_it(tmp_path):
    write(tmp_path, "sub/d.jsonl", '{"sentence": "a", "label": "1"}\n[]\n')
    spec = fixture_spec(tmp_path, {"train": sentence_file("./sub/d.jsonl", "jsonl")})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == "sub/d.jsonl:2: a jsonl line holds one JSON object per example, got a JSON list"


def test_a_folder_in_place_of_the_file_is_not_found(tmp_path):
    (tmp_path / "d.csv").mkdir()
    spec = fixture_spec(tmp_path, {"train": sentence_file("d.csv")})
    with pytest.raises(DataError, match=r"^d\.csv: file not found under --data-dir; task fixture/task-a names it in "):
        data.read_local_file(spec, "train", tmp_path)


def test_a_file_in_another_encoding_names_itself(tmp_path):
    write(tmp_path, "d.csv", "sentence,label\n좋다,1\n", encoding="cp949")
    spec = fixture_spec(tmp_path, {"train": sentence_file("d.csv")})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == "d.csv: not UTF-8 text (byte 0xc1 at offset 15); save the file as UTF-8"


# --------------------------------------------------------------------------------------
# data.load on local files: splits, slices, warnings, empty selections
# --------------------------------------------------------------------------------------

TEN_ROWS = "sentence,label\n" + "".join(f"row {i},{i % 2}\n" for i in range(10))


def ten_row_spec(tmp_path, train="train", validation="validation"):
    write(tmp_path, "t.csv", TEN_ROWS)
    write(tmp_path, "v.csv", "sentence,label\nv0,0\nv1,1\nv2,0\n")
    return fixture_spec(tmp_path, {"train": sentence_file("t.csv"), "validation": sentence_file("v.csv")}, train=train, validation=validation)


def test_two_local_files_load_whole_and_are_named(tmp_path):
    loaded = data.load(ten_row_spec(tmp_path), tmp_path, warn=lambda message: None)
    assert (loaded.source, loaded.splits, loaded.note, loaded.carved) == ("local", ("train", "validation"), None, False)
    assert (loaded.train_examples, loaded.validation_examples) == (10, 3)
    assert [f.path for f in loaded.files] == ["t.csv", "v.csv"]
    assert rows(loaded.dataset["validation"]) == [{"text_a": "v0", "label": 0}, {"text_a": "v1", "label": 1}, {"text_a": "v2", "label": 0}]
    assert loaded.label_counts == {"train": {"negative": 5, "positive": 5}, "validation": {"negative": 2, "positive": 1}}


def test_user_slices_of_two_files_are_noted_and_share_nothing(tmp_path):
    loaded = data.load(ten_row_spec(tmp_path), tmp_path, train_split="train[:4]", eval_split="validation[1:]")
    assert loaded.dataset["train"]["text_a"] == ["row 0", "row 1", "row 2", "row 3"]
    assert loaded.dataset["validation"]["text_a"] == ["v1", "v2"]
    assert loaded.note == "train = train[:4] of t.csv; scored on validation[1:] of v.csv"
    assert loaded.splits == ("train[:4]", "validation[1:]") and loaded.warnings == ()


@pytest.mark.parametrize("train, scored, shared", [
    ("train[:6]", "train[4:]", 2), ("train[2:5]", "train[:3]", 1), ("train", "train[-3:]", 3), ("train[20%:90%]", "train[50%:60%]", 1),
])
def test_overlapping_slices_of_one_file_are_warned_with_the_shared_rows(tmp_path, train, scored, shared):
    warned = []
    spec = ten_row_spec(tmp_path)
    loaded = data.load(spec, tmp_path, train_split=train, eval_split=scored, allow_single_class=True, warn=warned.append)
    message = f"train ({train}) and the scored split ({scored}) share {shared} rows"
    assert loaded.warnings[0] == message and warned[0] == f"{spec.id}: {message}"  # printed with its task
    assert [f.path for f in loaded.files] == ["t.csv"]  # one file, read once
    assert loaded.note == f"train = {train} of t.csv; scored on {scored}"


@pytest.mark.parametrize("train, scored", [("train[:5]", "train[5:]"), ("train[5:]", "train[:5]"), ("train[:50%]", "train[50%:]")])
def test_adjacent_slices_of_one_file_share_no_rows(tmp_path, train, scored):
    loaded = data.load(ten_row_spec(tmp_path), tmp_path, train_split=train, eval_split=scored)
    assert not [w for w in loaded.warnings if "share" in w]


def test_a_spec_carve_of_one_file_reads_it_once_and_says_so(tmp_path):
    spec = ten_row_spec(tmp_path, train="train[:80%]", validation="train[80%:]")
    loaded = data.load(spec, tmp_path)
    assert loaded.carved and (loaded.train_examples, loaded.validation_examples) == (8, 2)
    assert [f.path for f in loaded.files] == ["t.csv"] and loaded.warnings == ()
    assert loaded.note == f"train = train[:80%] of t.csv; scored on train[80%:] (stratified by label, after a seeded shuffle: {carving.CARVE_METHOD})"
    assert sorted([*loaded.dataset["train"]["text_a"], *loaded.dataset["validation"]["text_a"]]) == sorted(f"row {i}" for i in range(10))


def test_one_user_split_over_a_spec_carve_takes_rows_in_file_order(tmp_path):
    spec = ten_row_spec(tmp_path, train="train[:80%]", validation="train[80%:]")
    loaded = data.load(spec, tmp_path, eval_split="train[70%:]", warn=lambda message: None)
    assert not loaded.carved and loaded.dataset["validation"]["text_a"] == ["row 7", "row 8", "row 9"]
    assert loaded.dataset["train"]["text_a"] == [f"row {i}" for i in range(8)]
    assert loaded.warnings[0] == "train (train[:80%]) and the scored split (train[70%:]) share 1 rows"


def test_a_spec_that_trains_on_a_whole_split_and_scores_on_its_slice_carves_it(tmp_path):
    spec = ten_row_spec(tmp_path, train="train", validation="train[:30%]")
    loaded = data.load(spec, tmp_path, allow_single_class=True, warn=lambda message: None)
    assert loaded.carved and (loaded.train_examples, loaded.validation_examples) == (10, 3)
    assert loaded.warnings[0] == "train (train) and the scored split (train[:30%]) share 3 rows"


def test_a_spec_carve_of_a_token_file_is_shuffled_but_not_stratified(tmp_path):
    write(tmp_path, "ner.conll", "".join(f"w{i} O\nBonn B-LOC\n\n" for i in range(5)))
    files = {"validation": {"path": "ner.conll", "format": "conll"}}
    spec = fixture_spec(tmp_path, files, head="token-classification", train="validation[:60%]", validation="validation[60%:]")
    loaded = data.load(spec, tmp_path)
    assert loaded.carved and (loaded.train_examples, loaded.validation_examples) == (3, 2)
    assert loaded.note == f"train = validation[:60%] of ner.conll; scored on validation[60%:] (after a seeded shuffle: {carving.CARVE_METHOD})"


@pytest.mark.parametrize("train, scored, message", [
    ("train[10:]", "validation", "train split train[10:] of t.csv selects no rows; widen the slice"),
    ("train", "validation[3:]", "validation split validation[3:] of v.csv selects no rows; widen the slice"),
    ("train[:5]", "train[5:5]", "validation split train[5:5] of t.csv selects no rows; widen the slice"),
])
def test_an_empty_selection_names_the_split_and_the_file(tmp_path, train, scored, message):
    with pytest.raises(DataError) as err:
        data.load(ten_row_spec(tmp_path), tmp_path, train_split=train, eval_split=scored)
    assert str(err.value) == message


def test_a_split_without_a_file_lists_the_files(tmp_path):
    with pytest.raises(DataError) as err:
        data.load(ten_row_spec(tmp_path), tmp_path, eval_split="test[:10]")
    assert str(err.value) == ("task fixture/task-a: split 'test[:10]' names 'test', which has no file in "
                              f"{SPEC_SHOWN}: dataset.local.files (it has: train, validation)")


def test_a_missing_data_dir_or_local_section_says_what_to_do(tmp_path):
    with pytest.raises(DataError) as err:
        data.load(ten_row_spec(tmp_path), tmp_path / "nowhere")
    assert str(err.value) == f"--data-dir {tmp_path / 'nowhere'}: no such folder"
    spec = ten_row_spec(tmp_path)
    hub_only = spec.model_copy(update={"dataset": spec.dataset.model_copy(update={"local": None})})
    with pytest.raises(DataError) as err:
        data.load(hub_only, tmp_path)
    assert str(err.value) == (f"task fixture/task-a has no local files ({SPEC_SHOWN}: dataset.local); "
                              "run it without --data-dir to use the hub")


# --------------------------------------------------------------------------------------
# Raw columns -> canonical rows: dotted column paths, labels through the label_map, types
# --------------------------------------------------------------------------------------


def jsonl_spec(tmp_path, records, columns, head="sequence-classification", **extra):
    write(tmp_path, "d.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    file = {"path": "d.jsonl", "format": "jsonl", "columns": columns, **extra}
    return fixture_spec(tmp_path, {"train": file}, head=head)


def test_a_dotted_column_reaches_into_objects_and_a_dotted_key_wins(tmp_path):
    records = [
        {"label": {"gold": "negative"}, "labels": {"gold": "positive"}, "meta": {"text": {"raw": "deep"}}, "a.b": "flat", "a": {"b": "nested"}},
    ]
    spec = jsonl_spec(tmp_path, records, {"text_a": "meta.text.raw", "text_b": "a.b", "label": "labels.gold"})
    assert rows(data.read_local_file(spec, "train", tmp_path)) == [{"text_a": "deep", "text_b": "flat", "label": 1}]


@pytest.mark.parametrize("record, column, missing, has", [
    ({"s": "x", "labels": {"real": "1"}}, "labels.gold", "gold", "real"),  # the keys of the object the path reached
    ({"s": "x", "INDEX": "1", "k" * 50: "2"}, "gold", "gold", "s, INDEX, " + "k" * 36 + "..."),  # names cut at 40 characters
    ({"s": "x", **{f"c{i}": "x" for i in range(25)}}, "gold", "gold", "s, " + ", ".join(f"c{i}" for i in range(19))),  # 20 names
])
def test_a_missing_column_lists_what_the_row_has(tmp_path, record, column, missing, has):
    first = {"s": "x", "gold": "negative", "labels": {"gold": "negative"}}
    spec = jsonl_spec(tmp_path, [first, record], {"text_a": "s", "label": column})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == (f"d.jsonl (dataset.local.files.train), row 1: no column '{missing}'; the row has: {has} "
                              "(fix the spec's columns mapping)")


def test_a_klue_json_example_that_is_not_an_object_has_no_columns(tmp_path):
    write(tmp_path, "d.json", '[{"s": "x", "label": "1"}, ["x", "1"]]')
    spec = fixture_spec(tmp_path, {"train": sentence_file("d.json", "klue-json", columns={"text_a": "s", "label": "label"})})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == ("d.json (dataset.local.files.train), row 1: no column 's'; the row has: "
                              "no columns (a JSON list, not an object) (fix the spec's columns mapping)")


@pytest.mark.parametrize("label_map, message", [
    ({"0": "negative"}, "label '1' is not in the label_map of .../fixture/task-a.yaml (dataset.local.files.train.label_map); it maps ['0']"),
    ({"0": "negative", "1": "neutral"}, "label 'neutral' (raw value '1') is not one of the task's labels ['negative', 'positive']; "
                                        "check .../fixture/task-a.yaml: dataset.labels, or add it to dataset.local.files.train.label_map to map it"),
])
def test_a_label_the_spec_cannot_map_names_the_label_map(tmp_path, label_map, message):
    write(tmp_path, "d.csv", "sentence,label\nfine,0\nbad,1\n")
    spec = fixture_spec(tmp_path, {"train": {**sentence_file("d.csv"), "label_map": label_map}})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == f"d.csv (dataset.local.files.train), row 1: {message}"


def test_text_that_is_not_a_string_is_named(tmp_path):
    spec = jsonl_spec(tmp_path, [{"s": "x", "label": "negative"}, {"s": 5, "label": "negative"}], {"text_a": "s", "label": "label"})
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == "d.jsonl (dataset.local.files.train), row 1: text_a is 5, expected text"


@pytest.mark.parametrize("tokens, shown", [("EU", "'EU'"), (["EU", 5], "['EU', 5]")])
def test_tokens_that_are_not_a_list_of_strings_are_named(tmp_path, tokens, shown):
    records = [{"tokens": ["a"], "tags": ["O"]}, {"tokens": tokens, "tags": ["B-ORG", "I-ORG"]}]
    spec = jsonl_spec(tmp_path, records, {"tokens": "tokens", "tags": "tags"}, head="token-classification")
    with pytest.raises(DataError) as err:
        data.read_local_file(spec, "train", tmp_path)
    assert str(err.value) == f"d.jsonl (dataset.local.files.train), row 1: tokens must be a list of strings, got {shown}"


@pytest.mark.parametrize("line, said", [
    ("O", "ner.conll:2: 1 field(s): a token with no tag"),  # once read as the token 'O' tagged O
    ("   O", "ner.conll:2: 1 field(s): a token with no tag"),  # a space token, lost to the default separator
    ("rejects", "ner.conll:2: 1 field(s): a token with no tag"),
])
def test_conll_refuses_a_line_without_a_tag_naming_file_and_line(line, said):
    with pytest.raises(DataError) as err:
        data.READERS["conll"](f"EU B-ORG\n{line}\n", "ner.conll", conll())
    assert str(err.value).startswith(said)


def test_conll_keeps_a_space_token_as_written_and_refuses_an_empty_one():
    file = conll(separator="\t")
    assert data.READERS["conll"]("EU\tB-ORG\n \tO\nBonn\tB-LOC\n", "ner.conll", file) == [
        {"tokens": ["EU", " ", "Bonn"], "tags": ["B-ORG", "O", "B-LOC"]}]
    for text, said in (("EU\tB-ORG\n\tO\n", "ner.conll:2: an empty token"), ("EU\t \n", "ner.conll:1: an empty tag")):
        with pytest.raises(DataError, match=said):
            data.READERS["conll"](text, "ner.conll", file)


# --------------------------------------------------------------------------------------
# scores that would be undefined: refused before training, never recorded as 0.00
# --------------------------------------------------------------------------------------


def regression_spec(tmp_path, scored: str):
    columns = {"text_a": "a", "text_b": "b", "label": "score"}
    write(tmp_path, "train.csv", "a,b,score\nx,y,3.5\nz,w,0\nu,v,1\n")
    write(tmp_path, "dev.csv", "a,b,score\n" + scored)
    files = {"train": {"path": "train.csv", "format": "csv", "columns": columns},
             "validation": {"path": "dev.csv", "format": "csv", "columns": columns}}
    return fixture_spec(tmp_path, files, head="regression")


@pytest.mark.parametrize("scored, said", [
    ("x,y,2.5\nz,w,2.5\nu,v,2.5\n", r"every gold score of the scored split \(validation, 3 rows\) is 2\.5; Pearson and "
                                     r"Spearman of a constant are undefined"),
    ("x,y,2.5\n", r"the scored split \(validation\) has 1 row\(s\); a correlation needs at least 2"),
])
def test_a_regression_split_whose_correlation_is_undefined_is_refused(tmp_path, scored, said):
    with pytest.raises(DataError, match=said):
        data.load(regression_spec(tmp_path, scored), tmp_path)
    assert data.load(regression_spec(tmp_path, "x,y,2.5\nz,w,1.0\n"), tmp_path).validation_examples == 2


def test_a_train_split_of_one_class_is_warned(tmp_path):
    write(tmp_path, "train.csv", "sentence,label\na,1\nb,1\nc,1\n")
    write(tmp_path, "dev.csv", "sentence,label\na,0\nb,1\n")
    spec = fixture_spec(tmp_path, {"train": sentence_file("train.csv"), "validation": sentence_file("dev.csv")})
    warned = []
    data.load(spec, tmp_path, warn=warned.append)
    assert any("train split (train, 3 rows) holds only the label 'positive'" in w for w in warned), warned


def test_koenbert_reads_klue_files_through_these_readers(tmp_path):
    """The Korean text koenbert builds its vocabulary from is read by the task readers: the same rows from a
    CRLF KLUE-NER file, and the same error, naming the file and the line, for a broken one."""
    from harness.koenbert import vocab

    ner = tmp_path / "klue" / "ner" / "dev.tsv"
    ner.parent.mkdir(parents=True)
    ner.write_bytes("## g-1\t<서울:LC> 간다\r\n서\tB-LC\r\n울\tI-LC\r\n \tO\r\n간\tO\r\n\r\n## g-2\t다\r\n다\tO\r\n".encode())
    rows = data.read_records(ner, LocalFile(path="klue/ner/dev.tsv", format="klue-ner-tsv", columns={}))
    assert vocab.korean_sentences(tmp_path) == ["".join(r["tokens"]) for r in rows] == ["서울 간", "다"]
    ner.write_bytes("## g-1\t가\r\n가\tO\tX\r\n".encode())
    with pytest.raises(DataError) as err:
        vocab.korean_sentences(tmp_path)
    assert str(err.value) == ("klue/ner/dev.tsv:2: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; "
                              "found 3 tab-separated field(s), the first 1 character(s) long")
