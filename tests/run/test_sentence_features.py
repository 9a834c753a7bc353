"""Tokenized features of sentence and sentence-pair tasks: what the model and the scores receive, row by row."""

import datasets
import pytest
from transformers import AutoTokenizer

from harness.run import features


@pytest.fixture(scope="module")
def tokenizer(english_model_dir):
    return AutoTokenizer.from_pretrained(english_model_dir)


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Features made by the code under test, never read back from a cache an earlier test or run warmed."""
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path))


def one_split(**columns):
    return datasets.DatasetDict({"validation": datasets.Dataset.from_dict(columns)})


def test_a_sentence_pair_is_encoded_as_one_input_with_its_class(tokenizer):
    data = one_split(text_a=["a good film", "bad"], text_b=["a fine movie", "awful acting here"], label=[1, 0])
    out = features.tokenize(data, tokenizer, "sequence-classification", 32, "spec-a", "synthetic")["validation"]
    assert set(out.column_names) == {"input_ids", "token_type_ids", "attention_mask", "labels", "length"}
    expected = tokenizer("a good film", "a fine movie")
    assert out[0]["input_ids"] == expected["input_ids"] and out[0]["token_type_ids"] == expected["token_type_ids"]
    assert out["labels"] == [1, 0]
    assert out["length"] == [len(ids) for ids in out["input_ids"]]


def test_a_single_sentence_regression_keeps_float_labels_and_is_cut_at_max_length(tokenizer):
    data = one_split(text_a=["word " * 40, "short"], label=[4, 1.5])
    out = features.tokenize(data, tokenizer, "regression", 8, "spec-a", "synthetic")["validation"]
    assert out["labels"] == [4.0, 1.5] and all(isinstance(v, float) for v in out["labels"])
    assert out["length"] == [8, 3]  # [CLS] word x6 [SEP]; [CLS] short [SEP]
    assert out[0]["token_type_ids"] == [0] * 8  # one sentence: no second segment


def test_two_max_lengths_in_one_cache_keep_their_own_features(tokenizer):
    data = one_split(text_a=["word " * 40], label=[1])
    short = features.tokenize(data, tokenizer, "sequence-classification", 8, "spec-a", "synthetic")["validation"]
    long = features.tokenize(data, tokenizer, "sequence-classification", 32, "spec-a", "synthetic")["validation"]
    assert (short["length"], long["length"]) == ([8], [32])
