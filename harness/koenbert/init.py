"""Step 1b of koenbert: initial Korean-model rows for the added English pieces.

Every method predicts a Korean-space row (width d_ko) for a piece from what we know of it:

- ``ols``: least squares with intercept from the English input embeddings to the Korean
  ones, fitted on the pieces both vocabularies share (the original koenbert recipe).
  ``torch.linalg.lstsq`` with the SVD driver, so with fewer shared pieces than d_en + 1 it
  gives the minimum-norm solution instead of failing.
- ``ridge``: the same map with an L2 penalty chosen by generalized cross-validation on the
  fitted pieces (scikit-learn ``RidgeCV``).
- ``procrustes``: centre both sides, fit an orthogonal map and one scale, add the Korean
  mean back. Widths may differ: the map is the d_en x d_ko matrix U V^T from the thin SVD of
  Xc^T Yc, i.e. orthonormal columns (or rows) -- the same as zero-padding the narrower side
  to a square problem and cutting the padding off again.
- ``mean``: the mean Korean row. ``random``: normal, mean 0, the Korean table's std.
- ``subword-mean``: the mean of the Korean rows of the pieces the Korean WordPiece vocab
  splits the piece into (a ``##`` piece is split as a continuation); the mean row when it
  cannot split it.

Choosing the method. `heldout_score` holds out a seeded share of the shared pieces that look
like the pieces being initialised -- English words and word pieces of three or more letters,
not punctuation or digits -- fits every method on all the other shared pieces, and scores the
*centred* cosine between predicted and true Korean rows: both are taken relative to the mean
of the held-out true rows, so the deviations to be predicted sum to zero and a constant
prediction (the mean row, or any other) scores about 0 instead of the ~0.5 a raw cosine
gives the mean row. The extend report gives every method's score, its R² on the same rows
(variance-weighted over dimensions: 0 for the held-out rows' own mean, so the ``mean``
method, fitted on other rows, scores below 0) and ridge's alpha. The default, ``auto``, initialises with the method that scores best on the actual pair
of models; the report names it. No trained Korean BERT exists offline and the random tiny test
models have no relation to find, so the tests show that the solvers are right (a planted
linear map is recovered by ols and ridge, a planted rotation by procrustes) and that a
constant scores 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from harness.koenbert.vocab import greedy_wordpiece

METHODS = ("ols", "ridge", "procrustes", "mean", "random", "subword-mean")
AUTO = "auto"  # the method with the best held-out score on the actual pair of models
DEFAULT_INIT = AUTO
CHOICES = (AUTO, *METHODS)
WORDLIKE = re.compile(r"(##)?[^\W\d_]{3,}")  # letters only, 3 or more: what most added English pieces look like
MIN_WORDLIKE_HELDOUT = 5  # fewer word-like shared pieces than this: hold out from all shared pieces instead
# The score centres on the held-out rows' mean: one held-out piece is its own centre and every method scores 0,
# so at least this many are held out (all of a smaller word-like pool) whatever `fraction` gives.
MIN_HELDOUT = 5
RIDGE_ALPHAS = np.logspace(-4, 4, 17)  # searched by RidgeCV's leave-one-out GCV; embeddings are ~1e-2 in scale


@dataclass
class KoreanSide:
    """What the baselines may use: the Korean table and vocab, less the rows being scored."""

    table: np.ndarray                    # (V_ko, d_ko) Korean input embeddings
    vocab: Mapping[str, int]             # Korean WordPiece vocab: piece -> row
    hidden: frozenset = frozenset()      # rows the baselines must not see (held-out pieces)
    seed: int = 0
    notes: dict = field(default_factory=dict)

    def visible_rows(self) -> np.ndarray:
        if not self.hidden:
            return self.table
        mask = np.ones(len(self.table), dtype=bool)
        mask[list(self.hidden)] = False
        return self.table[mask]


def fit_predict(method: str, src: np.ndarray, tgt: np.ndarray, src_new: np.ndarray, pieces_new: list[str],
                korean: KoreanSide) -> np.ndarray:
    """Rows (len(pieces_new), d_ko) for the new pieces; src/tgt are the paired English/Korean rows."""
    if method == "ols":
        return _ols(src, tgt, src_new)
    if method == "ridge":
        return _ridge(src, tgt, src_new)
    if method == "procrustes":
        return _procrustes(src, tgt, src_new)
    if method == "mean":
        return np.repeat(korean.visible_rows().mean(0, keepdims=True), len(pieces_new), axis=0)
    if method == "random":
        rng = np.random.default_rng(korean.seed)
        return rng.normal(0.0, korean.visible_rows().std(), size=(len(pieces_new), korean.table.shape[1]))
    if method == "subword-mean":
        return _subword_mean(pieces_new, korean)
    raise ValueError(f"init method {method!r} is unknown; choose one of {', '.join(METHODS)}")


def _ols(src, tgt, src_new):
    import torch

    x = torch.from_numpy(np.hstack([src, np.ones((len(src), 1))])).double()
    w = torch.linalg.lstsq(x, torch.from_numpy(tgt).double(), driver="gelsd").solution
    x_new = torch.from_numpy(np.hstack([src_new, np.ones((len(src_new), 1))])).double()
    return (x_new @ w).numpy()


def _ridge(src, tgt, src_new):
    return ridge_fit(src, tgt).predict(src_new)


def ridge_fit(src, tgt):
    """RidgeCV over RIDGE_ALPHAS; ``.alpha_`` is the penalty generalized cross-validation chose."""
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=RIDGE_ALPHAS).fit(src, tgt)


def _procrustes(src, tgt, src_new):
    import torch

    mx, my = src.mean(0), tgt.mean(0)
    xc, yc = torch.from_numpy(src - mx).double(), torch.from_numpy(tgt - my).double()
    u, _, vt = torch.linalg.svd(xc.T @ yc, full_matrices=False)
    w = u @ vt                                   # (d_en, d_ko), orthonormal columns or rows
    xw = xc @ w
    scale = (xw * yc).sum() / (xw * xw).sum().clamp_min(1e-12)  # least-squares scale of the rotated rows
    return ((torch.from_numpy(src_new - mx).double() @ w) * scale).numpy() + my


def _subword_mean(pieces, korean: KoreanSide):
    vocab = {p: i for p, i in korean.vocab.items() if i not in korean.hidden}
    mean = korean.visible_rows().mean(0)
    rows, fallback = [], 0
    for piece in pieces:
        continuation = piece.startswith("##")
        surface = piece[2:] if continuation else piece
        parts, ok = greedy_wordpiece(surface, vocab, continuation=continuation)
        if ok and parts:
            rows.append(korean.table[[vocab[p] for p in parts]].mean(0))
        else:
            rows.append(mean)
            fallback += 1
    korean.notes["subword_mean_fallbacks"] = fallback
    return np.stack(rows) if rows else np.zeros((0, korean.table.shape[1]))


def mean_cosine(pred: np.ndarray, true: np.ndarray) -> float:
    num = (pred * true).sum(1)
    den = np.linalg.norm(pred, axis=1) * np.linalg.norm(true, axis=1)
    return float(np.mean(num / np.maximum(den, 1e-12)))


def centred_cosine(pred: np.ndarray, true: np.ndarray, centre: np.ndarray) -> float:
    """Mean cosine of (pred - centre) and (true - centre); a row equal to the centre scores 0."""
    return mean_cosine(pred - centre, true - centre)


def heldout_score(src: np.ndarray, tgt: np.ndarray, pieces: list[str], korean: KoreanSide,
                  fraction: float = 0.1, seed: int = 0, methods=METHODS) -> dict:
    """Hold out `fraction` of the word-like shared pieces (seeded), fit on every other shared piece, score every method."""
    from sklearn.metrics import r2_score

    n = len(pieces)
    wordlike = [i for i, p in enumerate(pieces) if WORDLIKE.fullmatch(p)]
    pool = wordlike if len(wordlike) >= MIN_WORDLIKE_HELDOUT else list(range(n))
    n_held = min(len(pool), max(MIN_HELDOUT, round(fraction * len(pool))))
    if n - n_held < 2:
        raise ValueError(f"{n} shared pieces are too few to fit on and hold out {fraction:.0%} of")
    held = np.sort(np.random.default_rng(seed).permutation(pool)[:n_held])
    fit = np.setdiff1d(np.arange(n), held)
    held_pieces = [pieces[i] for i in held]
    side = KoreanSide(korean.table, korean.vocab, frozenset(korean.vocab[p] for p in held_pieces), seed)
    centre = tgt[held].mean(0)  # a constant cannot point along deviations that sum to zero
    scores, r2 = {}, {}
    for method in methods:
        pred = fit_predict(method, src[fit], tgt[fit], src[held], held_pieces, side)
        scores[method] = round(centred_cosine(pred, tgt[held], centre), 4)
        r2[method] = round(float(r2_score(tgt[held], pred, multioutput="variance_weighted")), 4)
    return {"fraction": fraction, "seed": seed, "fitted_pieces": len(fit), "heldout_pieces": n_held,
            "heldout_from": "word-like shared pieces" if pool is wordlike else "all shared pieces (too few word-like)",
            "heldout_mean_chars": round(float(np.mean([len(p.removeprefix("##")) for p in held_pieces])), 2),
            "heldout_examples": held_pieces[:20], "centred_cosine": scores, "r2": r2, "best": max(scores, key=scores.get),
            "ridge_alpha": float(ridge_fit(src[fit], tgt[fit]).alpha_), "notes": side.notes}


def resolve(method: str, heldout: dict) -> str:
    """The method to initialise with: ``auto`` is the held-out winner."""
    return heldout["best"] if method == AUTO else method


def new_rows(method: str, src: np.ndarray, tgt: np.ndarray, src_new: np.ndarray, pieces_new: list[str],
             korean: KoreanSide) -> np.ndarray:
    """Rows for the added pieces, fitted on all shared pieces."""
    if method not in METHODS:
        raise ValueError(f"init method {method!r} is unknown; choose one of {', '.join(CHOICES)}")
    return fit_predict(method, src, tgt, src_new, pieces_new, korean).astype(np.float32)
