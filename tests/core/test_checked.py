"""Broken and hostile input files: every corruption ends in an error that names the file, never a traceback.

Property-based (hypothesis): small real files (models.yaml, one of each local data format)
are truncated, overwritten and spliced with random bytes, then read through the checked
path. Either the read succeeds or it raises the module's own input error; and no error
message repeats a line of the file longer than a shortened field value.
"""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core import checked
from harness.run import models
from harness.tasks import data
from harness.tasks.spec import load_tasks

fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def corrupted(draw, original: bytes) -> bytes:
    """``original`` with a few random edits: cut short, bytes overwritten, random bytes spliced in."""
    raw = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "overwrite", "insert"]))
        at = draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "truncate":
            del raw[at:]
        elif kind == "overwrite" and raw:
            raw[at] = draw(st.integers(0, 255))
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"\t", b"\n", b'"', b"{", b"]", b"\xff", b"\xed\x95"]))
    return bytes(raw)


def quotes_the_file(message: str, raw: bytes) -> bool:
    """Whether a message repeats a line of the file longer than a shortened field value (60 characters)."""
    text = raw.decode("utf-8", errors="ignore")
    return any(len(line) > 64 and line in message for line in text.splitlines())


MODELS_YAML = (Path(__file__).parents[2] / "models.yaml").read_bytes()


@fuzz
@given(st.data())
def test_a_corrupted_models_yaml_is_named_never_a_traceback(tmp_path, data_draw):
    raw = data_draw.draw(corrupted(MODELS_YAML))
    path = tmp_path / "models.yaml"
    path.write_bytes(raw)
    try:
        models.load_model_entries(path)
    except models.ModelUnavailable as err:
        assert str(err).startswith(f"{path}: ") and not quotes_the_file(str(err), raw)


@pytest.mark.parametrize("content", [b"", b"models:\n", b"models: []\n", b"# only a comment\n"])
def test_an_empty_models_yaml_lists_no_models(tmp_path, content):
    (tmp_path / "models.yaml").write_bytes(content)
    assert models.load_model_entries(tmp_path / "models.yaml") == []


# One small real file per local format: (task, split, how many bytes of the official file)
FORMATS = [
    ("klue/nli", "validation", 3000),  # klue-json
    ("klue/ner", "validation", 3000),  # klue-ner-tsv
    ("glue/mrpc", "validation", 3000),  # glue-tsv
    ("klue/ynat", "train", 3000),  # tsv, pandas quoting
    ("klue/sts", "train", 3000),  # csv
]


def small_file(shared_data, task_id, split, size):
    """The task's spec, the file's path relative to --data-dir, and a valid small version of the file."""
    spec = load_tasks([task_id])[0]
    relative = spec.dataset.local.files[split].path
    if relative.endswith(".json"):  # the first examples as a whole json list, not a cut
        examples = json.loads((shared_data / relative).read_text(encoding="utf-8"))[:5]
        return spec, relative, json.dumps(examples, ensure_ascii=False).encode()
    return spec, relative, (shared_data / relative).read_bytes()[:size].rsplit(b"\n", 1)[0] + b"\n"  # whole lines


@pytest.mark.parametrize("task_id, split, size", FORMATS)
def test_a_corrupted_data_file_is_named_never_a_traceback(tmp_path_factory, shared_data, task_id, split, size):
    spec, relative, original = small_file(shared_data, task_id, split, size)
    folder = tmp_path_factory.mktemp("data")
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_bytes(original)
    assert len(data.read_local_file(spec, split, folder)) > 0  # the uncorrupted file reads

    @fuzz
    @given(raw=corrupted(original))
    def read(raw):
        (folder / relative).write_bytes(raw)
        try:
            data.read_local_file(spec, split, folder)
        except data.DataError as err:
            message = str(err)
            assert relative in message and str(folder) not in message and not quotes_the_file(message, raw)

    read()


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_a_path_accepted_inside_a_folder_stays_inside_it(relative):
    base = Path("/data/dir")
    try:
        path = checked.relative_inside(base, relative, field="f")
    except checked.InputError:
        return
    assert path == base or base in path.parents
    assert ".." not in path.relative_to(base).parts


def test_a_corrupted_model_config_is_named_never_a_traceback(tmp_path_factory, tiny_english_bert):
    import shutil

    folder = tmp_path_factory.mktemp("model") / "m"
    shutil.copytree(tiny_english_bert, folder)
    original = (folder / "config.json").read_bytes()

    @settings(max_examples=25, deadline=None)
    @given(raw=corrupted(original))
    def resolve(raw):
        (folder / "config.json").write_bytes(raw)
        try:
            models.local_model(folder)
        except models.ModelUnavailable as err:
            assert "config.json" in str(err) and str(folder) not in str(err) and not quotes_the_file(str(err), raw)

    resolve()


# --------------------------------------------------------------------------------------------------
# YAML bombs and huge files: refused at once, naming the file

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))  # 9^9 values from 342 bytes


def test_an_alias_bomb_is_refused_at_once_naming_the_file(tmp_path):
    import time

    path = tmp_path / "reported.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    began = time.perf_counter()
    with pytest.raises(checked.InputError, match=r"reported\.yaml: refused: the YAML holds aliases that expand it"):
        checked.read_yaml(path)
    assert time.perf_counter() - began < 1.0


def test_aliases_beyond_the_budget_are_refused_and_a_few_are_read():
    with pytest.raises(checked.InputError, match=r"x\.yaml: refused: the YAML holds more than 100 aliases"):
        checked.parse_yaml("a: &a 1\nb: [" + ",".join(["*a"] * 101) + "]\n", name="x.yaml")
    assert checked.parse_yaml("base: &b {lr: 1}\nt: {<<: *b, n: 2}\nu: *b\n", name="x.yaml") == \
        {"base": {"lr": 1}, "t": {"lr": 1, "n": 2}, "u": {"lr": 1}}


def test_a_yaml_file_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * checked.MAX_YAML_BYTES + "\nname: x\n", encoding="utf-8")
    with pytest.raises(checked.InputError, match=r"huge\.yaml: 1,000,0\d\d bytes; a YAML file here is at most 1,000,000"):
        checked.read_yaml(path)


def test_site_build_names_an_alias_bomb_in_reported_yaml(tmp_path):
    from typer.testing import CliRunner

    from harness.cli import app

    reported = tmp_path / "reported.yaml"
    reported.write_text(ALIAS_BOMB, encoding="utf-8")
    fixture = Path(__file__).parents[1] / "data" / "records"
    result = CliRunner().invoke(app, ["site", "build", "--results", str(fixture / "results"), "--reported", str(reported),
                                      "--models", str(fixture / "models.yaml"), "--out", str(tmp_path / "site")])
    assert result.exit_code == 2 and "reported.yaml: refused" in " ".join(result.output.split()), result.output
    assert not (tmp_path / "site").exists()


def test_a_huge_task_yaml_is_named_by_bench_tasks(tmp_path):
    from typer.testing import CliRunner

    from harness.cli import app

    folder = tmp_path / "mine" / "big"
    folder.mkdir(parents=True)
    (folder / "huge.yaml").write_text("name: x\n" + "# padding\n" * 120_000, encoding="utf-8")
    result = CliRunner().invoke(app, ["tasks", "--tasks-dir", str(tmp_path / "mine")])
    assert result.exit_code == 2 and "huge.yaml" in result.output and "at most 1,000,000 bytes" in " ".join(result.output.split())


def test_one_formatter_words_a_mistake_for_a_file_a_flag_and_a_record():
    from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        seq_len: int = Field(gt=0)
        steps: list[int] = []

        @model_validator(mode="after")
        def _enough(self):
            if len(self.steps) > self.seq_len:
                raise ValueError("steps: more steps than seq_len\nseq_len: raise it")
            return self

    def problems(raw, **how):
        with pytest.raises(ValidationError) as caught:
            Options.model_validate(raw)
        return checked.validation_problems(caught.value, **how)

    assert problems({"seq_len": 0, "stpes": [1]}) == ["seq_len: Input should be greater than 0",
                                                      "stpes: unknown field; remove it or check its spelling"]
    assert problems({"seq_len": 0}, as_flags=True, values=True) == ["--seq-len: Input should be greater than 0 (got 0)"]
    assert problems({}, noun="key") == ["seq_len: required key is missing"]
    assert problems({"steps": ["x" * 200], "seq_len": 1}, values=True)[0].endswith("xxx...)")  # a value is shortened
    # a whole-model check names its own fields, one problem a line, in every form (flags too)
    for how in ({}, {"as_flags": True}):
        assert problems({"seq_len": 1, "steps": [1, 2]}, **how) == ["steps: more steps than seq_len", "seq_len: raise it"]
    assert checked.describe_validation_error(ValidationError.from_exception_data("Options", [])) == ""
