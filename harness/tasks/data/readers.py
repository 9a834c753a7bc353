"""The file formats: one reader a format in ``READERS``, from a file's text to its rows (dicts of raw fields).

A new format is one more reader here. Every reader of these formats goes through ``read_records``
or ``READERS``: a task's local files (harness.tasks.data.local_files) and koenbert's Korean text.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Callable, Optional

from harness.core import checked
from harness.tasks.data.loaded import DataError
from harness.tasks.spec import LocalFile


# GLUE and KLUE fields can be long (a whole news paragraph); csv's default cap is 128 KiB.
csv.field_size_limit(sys.maxsize)


def read_records(path: Path, file: LocalFile, name: Optional[str] = None) -> list[dict]:
    """The rows of one file as ``file`` (a task's file entry: format and options) describes it, read as UTF-8
    through the checked path; ``name`` is how messages call it. Every reader of these formats goes through here:
    a task's local files, and koenbert's Korean text."""
    name = name or file.path
    return READERS[file.format](checked.read_text(path, name=name, error=DataError), name, file)


def _read_klue_json(text: str, name: str, file: LocalFile) -> list[dict]:
    """Official KLUE json: one list of example objects."""
    records = checked.parse_json(text, name=name, error=DataError)
    if not isinstance(records, list):
        raise DataError(f"{name}: a klue-json file holds a list of examples, got a JSON {type(records).__name__}")
    return records


def _read_jsonl(text: str, name: str, file: LocalFile) -> list[dict]:
    records = []
    for number, line in enumerate(io.StringIO(text, newline=""), 1):
        if line.strip():
            record = checked.parse_json(line.strip(), name=f"{name}:{number}", error=DataError)  # NaN refused, as everywhere
            if not isinstance(record, dict):
                raise DataError(f"{name}:{number}: a jsonl line holds one JSON object per example, got a JSON "
                                f"{type(record).__name__}")
            records.append(record)
    return records


def _read_klue_ner_tsv(text: str, name: str, file: LocalFile) -> list[dict]:
    """Official KLUE-NER char tsv -> {guid, sentence, tokens, tags} per sentence, tags as names.

    The file opens with '## ' comment lines; each sentence is a '## guid<TAB>marked sentence'
    line, then one 'char<TAB>TAG' line per character (a space is ' <TAB>O'), then a blank
    line. The header is the last '## ' line before the characters, since the comments
    come right before the first sentence's header with no blank line between.
    """
    records: list[dict] = []
    header: Optional[str] = None
    tokens: list[str] = []
    tags: list[str] = []

    def finish() -> None:
        nonlocal header, tokens, tags
        if tokens:
            guid, _, sentence = (header or "").partition("\t")
            records.append({"guid": guid, "sentence": sentence, "tokens": tokens, "tags": tags})
        header, tokens, tags = None, [], []

    for number, line in enumerate(io.StringIO(text, newline=""), 1):  # lines as a file opened with newline=""
        line = line.rstrip("\r\n")  # never strip more: ' \tO' is a space character
        if not line.strip():  # KLUE-baseline also accepts a lone tab as the blank line
            finish()
        elif line.startswith("## ") and not tokens:
            header = line[3:]
        else:
            parts = line.split("\t")
            if len(parts) != 2 or len(parts[0]) != 1 or header is None:
                found = "no '## guid<TAB>sentence' line before it" if header is None else (
                    f"{len(parts)} tab-separated field(s), the first {len(parts[0])} character(s) long")
                raise DataError(f"{name}:{number}: expected 'char<TAB>TAG' after a '## guid<TAB>sentence' line; found {found}")
            tokens.append(parts[0])
            tags.append(parts[1])
    finish()
    return records


def _read_conll(text: str, name: str, file: LocalFile) -> list[dict]:
    """CoNLL columns -> {tokens, tags} per sentence: one token a line, a blank line between sentences.

    The token is field ``token_column`` (default 0) and the tag field ``tag_column`` (default -1,
    the last), fields split by ``separator`` (default any run of spaces or tabs), as CoNLL-2003
    writes 'EU NNP B-NP B-ORG'. '-DOCSTART-' lines (document breaks) are skipped.
    """
    token_at = 0 if file.token_column is None else file.token_column
    tag_at = -1 if file.tag_column is None else file.tag_column
    records: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(io.StringIO(text, newline=""), 1):
        line = line.rstrip("\r\n")
        fields = line.split(file.separator) if file.separator else line.split()
        if not line.strip() or fields[0] == "-DOCSTART-":
            if tokens:
                records.append({"tokens": tokens, "tags": tags})
            tokens, tags = [], []
            continue
        token, tag = _conll_fields(fields, token_at, tag_at, f"{name}:{number}")
        tokens.append(token)
        tags.append(tag)
    if tokens:
        records.append({"tokens": tokens, "tags": tags})
    return records


def _conll_fields(fields: list[str], token_at: int, tag_at: int, where: str) -> tuple[str, str]:
    """(token, tag) of one CoNLL line. Both must be there, in two different fields: a line of one field has no tag,
    and is never read as a token that is its own tag. A token is kept exactly as written, spaces included (with an
    explicit separator a token may be ' ', as KLUE-NER writes a space); an empty token or tag is refused."""
    size = len(fields)
    if not (-size <= token_at < size and -size <= tag_at < size):
        raise DataError(f"{where}: {size} field(s), but token_column is {token_at} and tag_column {tag_at} "
                        f"(dataset.local.files.*: set them, or separator, to fit the file)")
    if token_at % size == tag_at % size:
        raise DataError(f"{where}: {size} field(s): a token with no tag (token_column {token_at} and tag_column {tag_at} "
                        "are the same field); every token line needs its tag, or set separator to fit the file")
    token, tag = fields[token_at], fields[tag_at]
    if token == "" or not tag.strip():
        raise DataError(f"{where}: an empty {'token' if token == '' else 'tag'}; every token line holds a token and its tag")
    return token, tag


def _read_glue_tsv(text: str, name: str, file: LocalFile) -> list[dict]:
    """GLUE tsv, read with quoting OFF: MRPC holds unbalanced '"', which csv's quoting would
    swallow together with the following rows (MRPC train must stay at 3,668 rows)."""
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))
    return _rows_to_records(name, file, rows)


def _rows_to_records(name: str, file: LocalFile, rows: list[list[str]]) -> list[dict]:
    if file.header and not rows:
        raise DataError(f"{name}: the file is empty; header is true, so its first line names the columns")
    if file.header:
        names, rows, first = file.names or rows[0], rows[1:], 2
    elif file.names:
        names, first = file.names, 1
    else:
        raise DataError(f"{name}: header is false, so list the column names in the spec's 'names' field")
    records = []
    for number, row in enumerate(rows, first):
        if len(row) != len(names):
            raise DataError(f"{name}:{number}: {len(row)} fields, but the columns are {names}")
        records.append(dict(zip(names, row)))
    return records


def _read_delimited(sep: str) -> Callable[[str, str, LocalFile], list[dict]]:
    def read(text: str, name: str, file: LocalFile) -> list[dict]:
        """Generic csv/tsv with ordinary quoting (pandas writes these: YNAT's train file quotes fields)."""
        import pandas as pd

        if not file.header and not file.names:
            raise DataError(f"{name}: header is false, so list the column names in the spec's 'names' field")
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=0 if file.header else None,
                names=file.names,
                dtype=str,  # labels stay raw strings until mapped; regression scores are parsed below
                keep_default_na=False,  # a sentence reading "NA" or "null" is text, not a missing value
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:  # their messages give line numbers, not text
            raise DataError(f"{name}: not a readable {'csv' if sep == ',' else 'tsv'} file: {err}".rstrip()) from None
        if not isinstance(frame.index, pd.RangeIndex):
            # rows wider than the columns: pandas makes their first fields a row label, which to_dict drops,
            # so an unquoted 'Hello, world' would silently train on ' world'
            columns = list(frame.columns)
            raise DataError(
                f"{name}: {frame.index.nlevels + len(columns)} fields in a row, but the columns are {columns}; quote "
                f"each field that holds a {'comma' if sep == ',' else 'tab'}, or name every column in the spec's 'names'"
            )
        return frame.to_dict("records")

    return read


# Each reader gets a file's decoded text, its name for messages (relative to --data-dir) and its spec entry.
READERS: dict[str, Callable[[str, str, LocalFile], list[dict]]] = {
    "klue-json": _read_klue_json,
    "klue-ner-tsv": _read_klue_ner_tsv,
    "glue-tsv": _read_glue_tsv,
    "csv": _read_delimited(","),
    "tsv": _read_delimited("\t"),
    "jsonl": _read_jsonl,
    "conll": _read_conll,
}
