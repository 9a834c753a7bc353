"""Init methods for the added rows: the solvers are checked on planted relations.

Random tiny models have no relation between their tables, so every method scores about 0
there; these tests show what can be shown offline: each regression recovers a map planted
between two random tables, at any pair of widths, and the held-out score gives a constant ~0.
"""

import numpy as np
import pytest

from harness.koenbert.init import (AUTO, DEFAULT_INIT, METHODS, RIDGE_ALPHAS, WORDLIKE, KoreanSide, centred_cosine, fit_predict,
                                   heldout_score, mean_cosine, new_rows, resolve)


def planted_linear(n, d_en, d_ko, noise=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(d_en, d_ko)) / np.sqrt(d_en)
    b = rng.normal(size=d_ko)
    x = rng.normal(size=(n, d_en))
    return x, x @ w + b + noise * rng.normal(size=(n, d_ko)), w, b


def words(n):
    """Piece names that look like English words, so that every one may be held out."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [letters[i % 26] + letters[i // 26 % 26] + letters[i // 676 % 26] for i in range(n)]


def korean_side(table, seed=0):
    return KoreanSide(table, {p: i for i, p in enumerate(words(len(table)))}, seed=seed)


@pytest.mark.parametrize("method", ["ols", "ridge"])
@pytest.mark.parametrize("d_en,d_ko", [(48, 32), (24, 40), (32, 32)])
def test_planted_linear_map_is_recovered(method, d_en, d_ko):
    x, y, w, b = planted_linear(3000, d_en, d_ko)
    fit, new = slice(0, 2700), slice(2700, None)
    pred = fit_predict(method, x[fit], y[fit], x[new], [f"p{i}" for i in range(300)], korean_side(y))
    assert pred.shape == (300, d_ko)
    assert mean_cosine(pred, y[new]) > 0.9999
    assert np.abs(pred - y[new]).max() < 0.02          # noise is 1e-3; the rows are O(1)
    # the map itself: unit inputs give the planted columns back
    eye = fit_predict(method, x[fit], y[fit], np.vstack([np.zeros(d_en), np.eye(d_en)]), ["z"] * (d_en + 1), korean_side(y))
    assert np.allclose(eye[0], b, atol=5e-3)
    assert np.allclose(eye[1:] - eye[0], w, atol=5e-3)


@pytest.mark.parametrize("d_en,d_ko", [(32, 48), (48, 32), (40, 40)])
def test_planted_scaled_rotation_is_recovered_by_procrustes(d_en, d_ko):
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(max(d_en, d_ko), max(d_en, d_ko))))
    w = q[:d_en, :d_ko]                               # orthonormal rows or columns: the padded square problem
    x = rng.normal(size=(4000, d_en))
    if d_en > d_ko:                                   # only the part of x that w keeps can be recovered
        x = x @ w @ w.T + 1e-3 * rng.normal(size=x.shape)
    mean = rng.normal(size=d_ko)
    y = 0.3 * x @ w + mean
    pred = fit_predict("procrustes", x[:3600], y[:3600], x[3600:], ["p"] * 400, korean_side(y))
    assert mean_cosine(pred, y[3600:]) > 0.999
    assert np.abs(pred - y[3600:]).max() < 0.01


def test_few_shared_pieces_ols_still_answers_and_ridge_is_steadier():
    # fewer fitted pieces than d_en + 1: lstsq gives the minimum-norm fit instead of failing
    x, y, _, _ = planted_linear(120, 64, 16, noise=0.3, seed=3)
    side = korean_side(y)
    scores = heldout_score(x, y, words(len(x)), side, fraction=0.2, seed=0)["centred_cosine"]
    assert np.isfinite(scores["ols"])
    assert scores["ridge"] >= scores["ols"]


def test_heldout_scores_every_method_and_is_seeded():
    x, y, _, _ = planted_linear(800, 24, 16)
    pieces = words(len(x))
    a = heldout_score(x, y, pieces, korean_side(y), fraction=0.1, seed=7)
    b = heldout_score(x, y, pieces, korean_side(y), fraction=0.1, seed=7)
    assert a == b
    assert set(a["centred_cosine"]) == set(METHODS)
    assert a["heldout_pieces"] == 80 and a["fitted_pieces"] == 720
    assert a["centred_cosine"]["ols"] > 0.99 and a["centred_cosine"]["ridge"] > 0.99
    assert abs(a["centred_cosine"]["random"]) < 0.2
    # the held-out rows are hidden from the baselines: each held-out piece is a Korean piece of its own, whose row
    # subword-mean would otherwise return (1.0); without it the split fails and it falls back to the mean row
    assert abs(a["centred_cosine"]["subword-mean"]) < 0.2 and a["notes"]["subword_mean_fallbacks"] == 80
    assert a["best"] in ("ols", "ridge") and a["ridge_alpha"] in RIDGE_ALPHAS
    assert resolve(AUTO, a) == a["best"] and resolve("mean", a) == "mean" and DEFAULT_INIT == AUTO


def test_a_constant_prediction_scores_about_zero_where_the_raw_cosine_favours_it():
    # Korean rows far from the origin (as real embedding tables are: a shared offset), a weak planted relation
    x, y, _, _ = planted_linear(600, 24, 16, noise=3.0, seed=1)
    y = y + 8.0
    pieces = words(len(x))
    side = korean_side(y)
    h = heldout_score(x, y, pieces, side, fraction=0.2, seed=0)
    held = np.isin(np.array(pieces), h["heldout_examples"])  # the first 20 held out, enough to locate rows
    assert abs(h["centred_cosine"]["mean"]) < 0.05  # the mean row
    rows = y[held]
    for constant in (y.mean(0), y[0], np.full(16, 8.0)):
        prediction = np.repeat(constant[None], len(rows), axis=0)
        assert mean_cosine(prediction, rows) > 0.8  # what the raw cosine gave a constant
        assert abs(centred_cosine(prediction, rows, rows.mean(0))) < 0.1
    assert h["centred_cosine"]["ridge"] > h["centred_cosine"]["mean"] + 0.2  # the relation still shows


def test_heldout_pieces_are_the_word_like_ones():
    x, y, _, _ = planted_linear(300, 8, 8)
    punctuation_and_digits = [f"{i}" for i in range(140)] + list(",.;:!?()[]")
    word_like = [("##" + w if i % 2 else w) for i, w in enumerate(words(150))]
    pieces = punctuation_and_digits + word_like
    h = heldout_score(x, y, pieces, KoreanSide(y, {p: i for i, p in enumerate(pieces)}), fraction=0.5, seed=0)
    assert h["heldout_from"] == "word-like shared pieces"
    assert all(WORDLIKE.fullmatch(p) for p in h["heldout_examples"]) and h["heldout_mean_chars"] >= 3
    assert h["heldout_pieces"] == 75 and h["fitted_pieces"] == 225  # half of the 150 word-like; fitted on the rest


def test_subword_mean_averages_the_korean_split():
    table = np.arange(12, dtype=float).reshape(6, 2)
    vocab = {"ab": 0, "##c": 1, "a": 2, "##b": 3, "##bc": 4, "[UNK]": 5}
    side = KoreanSide(table, vocab)
    rows = fit_predict("subword-mean", None, None, None, ["abc", "##bc", "##b", "xyz"], side)
    assert np.allclose(rows[0], table[[0, 1]].mean(0))   # ab ##c
    assert np.allclose(rows[1], table[4])                 # a continuation piece splits as one: ##bc
    assert np.allclose(rows[2], table[3])
    assert np.allclose(rows[3], table.mean(0))            # cannot split: the mean row
    assert side.notes["subword_mean_fallbacks"] == 1


def test_baselines_mean_and_random():
    rng = np.random.default_rng(0)
    table = rng.normal(0.1, 0.05, size=(500, 8))
    side = korean_side(table, seed=3)
    mean = fit_predict("mean", None, None, None, ["a", "b"], side)
    assert np.allclose(mean, table.mean(0))
    r1 = fit_predict("random", None, None, None, ["a"] * 2000, side)
    r2 = fit_predict("random", None, None, None, ["a"] * 2000, korean_side(table, seed=3))
    assert np.array_equal(r1, r2)
    assert abs(r1.std() - table.std()) < 0.01 and abs(r1.mean()) < 0.01


def test_unknown_method():
    with pytest.raises(ValueError, match="choose one of"):
        new_rows("lasso", np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((1, 2)), ["a"], korean_side(np.zeros((3, 2))))


def test_a_small_word_like_pool_still_holds_out_enough_pieces_to_score():
    # 6 word-like pieces among 400 shared: 10% of them rounds to one piece, which is its own centre
    # (every method would score 0 and "auto" would pick by the order of METHODS)
    x, y, _, _ = planted_linear(400, 16, 12)
    pieces = [f"{i}" for i in range(394)] + words(6)
    h = heldout_score(x, y, pieces, KoreanSide(y, {p: i for i, p in enumerate(pieces)}), fraction=0.1, seed=0)
    assert h["heldout_from"] == "word-like shared pieces"
    assert h["heldout_pieces"] == 5 and h["fitted_pieces"] == 395
    pieces = [f"{i}" for i in range(395)] + words(5)  # exactly MIN_WORDLIKE_HELDOUT word-like pieces: still the pool
    h = heldout_score(x, y, pieces, KoreanSide(y, {p: i for i, p in enumerate(pieces)}), fraction=0.1, seed=0)
    assert h["heldout_from"] == "word-like shared pieces" and sorted(h["heldout_examples"]) == sorted(words(5))
    assert h["centred_cosine"]["ols"] > 0.9 and h["best"] in ("ols", "ridge")
