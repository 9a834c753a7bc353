"""The training loop's protocol fields, checked directly: how many times an epoch it scores, which
evaluation it keeps (and whose predictions), and the warm-up of its learning rate.

One tiny BERT around a real vocabulary, trained for seconds on the bundled KLUE-STS samples;
no pinned scores: every check compares the loop with its own evaluations or with the task's YAML.
"""

import math

import pytest
import torch
from transformers import AutoTokenizer

from harness.demo import SAMPLES_DIR
from harness.results import predictions
from harness.results.records import Evaluation
from harness.run import features, finetune, runner
from harness.tasks import data, metrics
from harness.tasks.spec import load_tasks

CPU = torch.device("cpu")
STS = load_tasks(["klue/sts"])[0]  # selection: best, by its primary metric (pearson)
# 32 rows at batch 8: 4 steps an epoch, each scored (evals_per_epoch 4); a high learning rate, so the scores move
SETTINGS = {"epochs": 2, "evals_per_epoch": 4, "learning_rate": 1e-3, "batch_size": 8, "max_length": 64}


@pytest.fixture(scope="module")
def sts(tiny_english_bert):
    """(tokenizer, encoded KLUE-STS samples, hyperparameters, the seed's result) of one short training."""
    loaded = data.load(STS, SAMPLES_DIR, limit=32, eval_limit=32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_english_bert)
    hp = runner.RunOptions(overrides=SETTINGS).hyperparameters(STS)
    encoded = features.tokenize(loaded.dataset, tokenizer, STS.head, hp.max_length, STS.sha256, loaded.fingerprint)
    result = finetune.finetune(STS, str(tiny_english_bert), tokenizer, encoded, hp, 42, CPU)
    return loaded, tokenizer, encoded, hp, result


def test_the_validation_split_is_scored_evals_per_epoch_times_an_epoch(sts):
    *_, hp, result = sts
    assert hp.evals_per_epoch == 4 and math.ceil(32 / hp.batch_size) == 4
    assert [(e.epoch, e.step) for e in result.evaluations] == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6), (2, 7), (2, 8)]


def test_the_kept_predictions_are_those_of_the_selected_evaluation(sts, tmp_path):
    """What intervals, tie marks, reference comparisons and `bench compare` resample: the chosen evaluation's."""
    loaded, *_, result = sts
    last = result.evaluations[-1]
    best = max(result.evaluations, key=lambda e: e.scores["pearson"])
    # the training this test needs: the best evaluation is not the last, and they score differently
    assert (result.epoch, result.step) == (best.epoch, best.step) != (last.epoch, last.step)
    assert result.scores == best.scores and best.scores["pearson"] > last.scores["pearson"] + 0.5

    cache = tmp_path / "key-seed42.json"
    assert predictions.keep_seed(cache, STS, loaded.dataset["validation"].to_dict(), result)
    kept = predictions.load(predictions.seed_file(cache))
    (predicted,) = kept.predictions
    rescored = metrics.compute(STS.metrics.names, predicted, kept.references, binarize_threshold=STS.metrics.binarize_threshold)
    assert rescored == result.scores


def _evaluation(step: int, entity_f1: float, char_f1: float) -> Evaluation:
    return Evaluation(epoch=1, step=step, scores={"entity_f1": entity_f1, "char_f1": char_f1})


def test_klue_ner_keeps_the_evaluation_with_the_best_character_f1_not_entity_f1():
    """KLUE-baseline's run_all.sh selects NER checkpoints by character macro F1 (--metric_key character_macro_f1)."""
    ner = load_tasks(["klue/ner"])[0]
    evaluations = [_evaluation(1, 10.0, 60.0), _evaluation(2, 30.0, 80.0), _evaluation(3, 40.0, 70.0)]
    assert ner.metrics.primary == "entity_f1"  # what the leaderboard ranks by; not what selects the checkpoint
    assert finetune.select(evaluations, ner).step == 2
    ynat = load_tasks(["klue/ynat"])[0]  # no selection_metric: the primary one selects
    by_primary = [Evaluation(epoch=1, step=s, scores={"macro_f1": f, "accuracy": a})
                  for s, f, a in ((1, 50.0, 90.0), (2, 60.0, 80.0))]
    assert finetune.select(by_primary, ynat).step == 2


def _learning_rates(run: finetune.Run, steps: int) -> list[float]:
    """The learning rate each optimizer step of a run uses, the schedule stepped as train_epoch steps it."""
    rates = []
    for _ in range(steps):
        rates.append(run.optimizer.param_groups[0]["lr"])
        run.optimizer.step()  # no gradients: the weights stay, only the schedule moves
        run.scheduler.step()
    return rates


@pytest.mark.parametrize("warmup_ratio, expected", [
    (0.5, [0, 1 / 4, 2 / 4, 3 / 4, 1, 3 / 4, 2 / 4, 1 / 4]),  # 4 of 8 steps warm up linearly, then a linear decay
    (0.1, [0, 1, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7]),  # KLUE's 0.1 of 8 steps: one step, rounded up
    (0.0, [1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8]),  # KLUE-NER and GLUE: no warm-up
])
def test_the_learning_rate_warms_up_over_warmup_ratio_of_the_steps(sts, tiny_english_bert, warmup_ratio, expected):
    _, tokenizer, encoded, hp, _ = sts
    hp = hp.model_copy(update={"warmup_ratio": warmup_ratio})
    run = finetune.setup(STS, str(tiny_english_bert), tokenizer, encoded["train"], hp, 42, CPU, "off")
    total = hp.epochs * len(run.loader)
    assert total == 8
    assert _learning_rates(run, total) == pytest.approx([hp.learning_rate * f for f in expected])
