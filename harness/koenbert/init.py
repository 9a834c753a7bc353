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

Choosing the default. `heldout_cosine` holds out a seeded share of the shared pieces, fits
every method on the rest and scores the mean cosine between predicted and true Korean rows;
the extend report gives these figures for the actual pair of models on every run and names
the winner. No trained Korean BERT exists offline, and with the random tiny test models every
method scores about 0 (there is no relation to find), so the tests only show that the
solvers are right (a planted linear map is recovered by ols and ridge, a planted rotation by
procrustes, at any pair of widths). The default was chosen on a real-vs-real stand-in:
all-MiniLM-L6-v2's input embeddings (X) against its own layer-L output for each piece alone
([CLS] piece [SEP]; Y), two trained 384-wide tables of one vocabulary related by a nonlinear
map; n random pieces play the shared ones, 10% held out, mean of 3 seeds:

    Y = layer 6        ols    ridge  procrustes  mean   random  subword-mean
    n = 224           0.498  0.591   0.463      0.288  -0.005   0.317
    n = 535           0.429  0.678   0.554      0.292   0.001   0.357
    n = 2,000         0.731  0.748   0.629      0.299   0.000   0.368
    n = 10,000        0.777  0.778   0.660      0.294  -0.002   0.367
    Y = layer 1
    n = 224           0.844  0.860   0.749      0.528   0.003   0.479
    n = 535           0.874  0.938   0.913      0.524   0.007   0.485
    n = 2,000         0.968  0.969   0.940      0.528  -0.001   0.503

Ridge is best at every size; ols matches it only when the fitted pieces far outnumber the
width and is worst just above it (n = 535 for d = 384). A Korean vocabulary shares few
pieces with an English one (224 for the test vocabularies), so ridge is the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from harness.koenbert.vocab import greedy_wordpiece

METHODS = ("ols", "ridge", "procrustes", "mean", "random", "subword-mean")
DEFAULT_INIT = "ridge"
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
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=RIDGE_ALPHAS).fit(src, tgt).predict(src_new)


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


def heldout_cosine(src: np.ndarray, tgt: np.ndarray, pieces: list[str], korean: KoreanSide,
                   fraction: float = 0.1, seed: int = 0, methods=METHODS) -> dict:
    """Hold out `fraction` of the shared pieces (seeded), fit on the rest, score every method."""
    n = len(pieces)
    n_held = max(1, round(fraction * n))
    if n - n_held < 2:
        raise ValueError(f"{n} shared pieces are too few to fit on and hold out {fraction:.0%} of")
    order = np.random.default_rng(seed).permutation(n)
    held, fit = np.sort(order[:n_held]), np.sort(order[n_held:])
    held_pieces = [pieces[i] for i in held]
    side = KoreanSide(korean.table, korean.vocab, frozenset(korean.vocab[p] for p in held_pieces), seed)
    scores = {}
    for method in methods:
        pred = fit_predict(method, src[fit], tgt[fit], src[held], held_pieces, side)
        scores[method] = round(mean_cosine(pred, tgt[held]), 4)
    return {"fraction": fraction, "seed": seed, "fitted_pieces": len(fit), "heldout_pieces": n_held,
            "mean_cosine": scores, "best": max(scores, key=scores.get), "notes": side.notes}


def new_rows(method: str, src: np.ndarray, tgt: np.ndarray, src_new: np.ndarray, pieces_new: list[str],
             korean: KoreanSide) -> np.ndarray:
    """Rows for the added pieces, fitted on all shared pieces."""
    if method not in METHODS:
        raise ValueError(f"init method {method!r} is unknown; choose one of {', '.join(METHODS)}")
    return fit_predict(method, src, tgt, src_new, pieces_new, korean).astype(np.float32)
