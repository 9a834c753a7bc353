"""A test run writes its caches into a temporary folder, and the feature cache is keyed by the code that makes the features."""

import importlib.util
import os
import sys
from pathlib import Path

import datasets
import pytest
from transformers import AutoTokenizer

from harness.run import features
from harness.tasks import heads

USER_FEATURE_CACHE = Path.home() / ".cache" / "koenbench"


def _under(path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def ner_rows() -> datasets.DatasetDict:
    """Two synthetic character-tagged sentences (tag 0 everywhere), the shape harness.tasks.data gives KLUE-NER."""
    rows = {"tokens": [list("서울 간다"), list("hello world")], "tags": [[0] * 5, [0] * 11]}
    return datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows)})


@pytest.fixture(scope="module")
def tokenizer(english_model_dir):
    return AutoTokenizer.from_pretrained(english_model_dir)


def test_every_cache_of_a_test_run_is_in_its_temporary_folder(test_cache):
    assert not _under(test_cache, USER_FEATURE_CACHE)
    assert _under(features.cache_root(), test_cache)
    # datasets fixed its cache folder when it was imported: the environment must have been set before
    assert _under(datasets.config.HF_DATASETS_CACHE, test_cache)
    assert _under(os.environ["HF_HOME"], test_cache)
    # the fixture hub repos (tests/hubcache.py) go where huggingface_hub reads, never into the user's hub cache
    from huggingface_hub import constants

    assert _under(constants.HF_HUB_CACHE, test_cache) and constants.HF_HUB_OFFLINE


def test_tokenizing_writes_into_the_test_cache_and_not_the_users(tokenizer, test_cache):
    encoded = features.tokenize(ner_rows(), tokenizer, "token-classification", 32, "spec-a", "synthetic")
    written = {Path(f["filename"]) for f in encoded["train"].cache_files}
    assert written and all(_under(f, test_cache) for f in written)
    assert not any(_under(f, USER_FEATURE_CACHE) for f in written)


def _edited(module, tmp_path: Path, edit: str, monkeypatch):
    """A harness module as a user would have it after an upgrade that changes how features are made."""
    source = Path(module.__file__).read_text(encoding="utf-8") + edit
    path = tmp_path / f"{module.__name__.rpartition('.')[2]}_edited.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    edited = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, edited)  # its dataclasses look their module up there
    spec.loader.exec_module(edited)
    return edited


def test_changed_feature_code_does_not_reuse_features_made_by_the_old_code(tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path / "cache"))  # the same cache for both versions
    args = (ner_rows(), tokenizer, "token-classification", 32, "spec-a", "synthetic")
    old = list(features.tokenize(*args)["train"]["labels"])
    assert heads.IGNORE_INDEX in old[0]  # [CLS]/[SEP] (and the space) carry the ignore index

    # the new code marks ignored positions differently; a cache keyed without the code would hand back `old`
    with monkeypatch.context() as patch:
        patch.setattr(features, "heads", _edited(heads, tmp_path, "\nIGNORE_INDEX = -7\n", patch))
        new = list(features.tokenize(*args)["train"]["labels"])
    assert new != old
    assert [[-7 if v == heads.IGNORE_INDEX else v for v in row] for row in old] == new

    # the unchanged code still finds its own cache: same features again
    assert list(features.tokenize(*args)["train"]["labels"]) == old
