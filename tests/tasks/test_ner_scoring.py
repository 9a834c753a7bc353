"""KLUE-NER scores of given subword predictions, against values worked out by hand from the metric definitions
(KLUE-baseline: per character, spaces left out, each sentence wrapped in O; char F1 is macro over all 13 tags)."""

import datasets
import pytest
from transformers import AutoTokenizer

from harness.run import features, finetune
from harness.tasks import heads
from harness.tasks.spec import load_tasks

NER = load_tasks(["klue/ner"])[0]
LABELS = NER.dataset.labels
TAG = {name: i for i, name in enumerate(LABELS)}
# "new york" is one location, and the space inside it is tagged I-LC, as the KLUE file tags such spaces
TEXT = "new york is big"
GOLD = ["B-LC", "I-LC", "I-LC", "I-LC", "I-LC", "I-LC", "I-LC", "I-LC"] + ["O"] * 7


@pytest.fixture(scope="module")
def encoded(english_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    rows = {"tokens": [list(TEXT)], "tags": [[TAG[t] for t in GOLD]]}
    dataset = datasets.DatasetDict({"validation": datasets.Dataset.from_dict(rows)})
    return features.tokenize(dataset, tokenizer, NER.head, 32, NER.sha256, "synthetic")["validation"]


def test_the_sentence_is_what_the_hand_computations_assume(encoded):
    assert len(LABELS) == 13 and len(GOLD) == len(TEXT) == 15
    assert encoded[0]["length"] == 6  # [CLS] new york is big [SEP]: one subword per word


def test_predicting_every_subword_right_scores_100_because_spaces_are_not_scored(encoded):
    perfect = [[TAG["O"] if label == heads.IGNORE_INDEX else label for label in row] for row in encoded["labels"]]
    # the space inside "new york" has no subword, so it comes back as O against a gold I-LC: were it scored,
    # char F1 would drop below 100 and the entity would break in two
    assert finetune.score(NER, encoded, perfect) == {"entity_f1": 100.0, "char_f1": 100.0}


def test_predicting_o_everywhere_scores_what_the_definition_gives(encoded):
    all_o = [[TAG["O"]] * encoded[0]["length"]]
    # 12 scored characters (3 spaces left out) plus an O at each end: gold O 7, predicted O 14, all 7 found.
    # O: precision 7/14, recall 1, F1 2/3; B-LC and I-LC: F1 0; the 10 tags neither seen nor predicted: 1 each
    char_f1 = 100 * (2 / 3 + 0 + 0 + 10) / 13
    assert finetune.score(NER, encoded, all_o) == {"entity_f1": 0.0, "char_f1": pytest.approx(char_f1, abs=1e-4)}
