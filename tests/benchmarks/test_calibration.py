"""benchmarks/calibration.py, reduced: `bench compare`'s verdicts hold their level where the truth is known.

The quick version (3 seeds; seed noise half and twice the example noise; MRPC-sized sets; 150
simulated comparisons a setting, 400 resamples) runs the product's own functions on synthetic
classifiers. The full run and its figures are in docs/statistics.md.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import calibration  # noqa: E402


@pytest.fixture(scope="module")
def quick():
    return calibration.run(quick=True)


def test_equal_models_get_a_verdict_at_most_at_the_level_and_intervals_cover(quick):
    equal = [row for row in quick["pairwise"] if row["apart"] == 0]
    assert [row["ratio"] for row in equal] == [0.5, 2.0] and all(row["verdict"]["of"] == 150 for row in equal)
    for row in equal:
        # 5% is the level; 150 comparisons leave a binomial sd of 1.8 points (seeds treated as known gave 10-13%)
        assert row["verdict"]["rate"] <= 0.09, calibration.line(row)
        assert row["coverage"]["rate"] >= 0.91 and row["score_coverage"]["rate"] >= 0.91, calibration.line(row)


def test_models_one_point_apart_are_covered_and_never_reversed_often(quick):
    (apart,) = [row for row in quick["pairwise"] if row["apart"] == 1.0]
    assert apart["truth_difference"] == pytest.approx(1.0, abs=1e-6)
    assert apart["coverage"]["rate"] >= 0.91 and apart["a_better"]["rate"] <= 0.05


def test_holm_keeps_a_family_of_eight_tasks_and_a_board_of_ten_at_the_level(quick):
    (family,) = quick["family"]
    assert family["tasks"] == 8 and family["averages"] == 2
    assert family["any_verdict_unadjusted"]["rate"] > 0.2  # ten tests at 5% each: the simulation sees the problem
    assert family["any_verdict_holm"]["rate"] <= 0.10
    (board,) = quick["board"]
    assert board["any_marked_holm_all_pairs"]["rate"] <= 0.10


def test_the_simulated_seed_noise_is_the_one_asked_for():
    setting = calibration.Setting(3, 2.0, calibration.MRPC)
    seed_sd = setting.seed_sd()
    accuracy = calibration.true_accuracy(0.0, 0.0)
    example_noise = 100 * np.sqrt(accuracy * (1 - accuracy) / calibration.MRPC)
    assert calibration.seed_noise(seed_sd) == pytest.approx(2.0 * example_noise, rel=1e-6)
    # 400 seeds of one model on 40,000 examples: their scores spread by the seed noise (and 0.2 points of examples)
    rng = np.random.default_rng(0)
    model = calibration.simulate(rng, 40_000, 400, [0.0], seed_sd)[0]
    spread = model.seed_scores("accuracy").std()
    assert spread == pytest.approx(np.hypot(calibration.seed_noise(seed_sd), 100 * np.sqrt(0.16 / 40_000)), rel=0.1)
    mean = calibration.true_accuracy(0.0, seed_sd)
    assert model.point("accuracy") == pytest.approx(100 * mean, abs=0.5)
    assert mean == pytest.approx(float(np.mean(special.expit(rng.normal(
        calibration.MEAN_LOGIT, np.sqrt(calibration.DIFFICULTY_SD ** 2 + calibration.MODEL_SD ** 2 + seed_sd ** 2),
        400_000)))), abs=0.002)
