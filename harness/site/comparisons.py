"""Each measured model against the reference models, for the model pages: `bench compare` per pair, once per build.

A reference is a model marked ``reference: true`` in models.yaml; when no entry of the file
says ``reference:`` at all, ``DEFAULT_REFERENCES`` are. A reference is compared against only
where it has ranked records with per-example predictions. Reported (published) numbers have
no predictions and never enter: only measured records are paired.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Optional, Sequence

from harness.results import compare, records
from harness.stats import bootstrap

# the Korean and the English model a Korean-English encoder is measured against (koenbert's two teachers)
DEFAULT_REFERENCES = ("klue/bert-base", "bert-base-uncased")


def reference_ids(models: dict[str, dict[str, Any]]) -> list[str]:
    """The models every other model's page is compared with, in models.yaml's order.

    ``reference: true`` entries; when no entry says ``reference:`` (true or false), the defaults.
    """
    if any(entry.get("reference") is not None for entry in models.values()):
        return [model_id for model_id, entry in models.items() if entry.get("reference")]
    return list(DEFAULT_REFERENCES)


def sides(entries: Sequence[tuple[Path, records.ResultRecord]]) -> dict[str, compare.Side]:
    """The ranked records as `bench compare` reads them: model id -> its records by task."""
    out: dict[str, compare.Side] = {}
    for path, record in entries:
        out.setdefault(record.model.id, compare.Side(record.model.id, {})).records[record.task.id] = (path, record)
    return out


def reference_comparisons(entries: Sequence[tuple[Path, records.ResultRecord]], references: Sequence[str],
                          task_ids: Sequence[str], load: compare.Loader,
                          resamples: int = bootstrap.RESAMPLES) -> dict[str, list[compare.Comparison]]:
    """Model id -> one comparison per reference (A = the reference, B = the model, so B - A is model - reference).

    Tasks either model has, in ``task_ids``' order; a task one of them lacks, or one whose
    validation examples differ, is a row that says so (``TaskComparison.problem``).
    """
    by_model = sides(entries)
    usable = [r for r in dict.fromkeys(references)
              if r in by_model and any(rec.predictions is not None for _, rec in by_model[r].records.values())]
    done: dict[tuple[str, str], compare.Comparison] = {}
    out: dict[str, list[compare.Comparison]] = {}
    for model_id, side in by_model.items():
        for reference in usable:
            if reference == model_id:
                continue
            if (model_id, reference) in done:  # two references: one bootstrap, read both ways
                found = flipped(done[(model_id, reference)])
            else:
                ref_side = by_model[reference]
                tasks = [t for t in task_ids if t in side.records or t in ref_side.records]
                found = compare.compare(ref_side, side, tasks, resamples, load=load)
            done[(reference, model_id)] = found
            out.setdefault(model_id, []).append(found)
    return out


def flipped(result: compare.Comparison) -> compare.Comparison:
    """A - B from a comparison of B - A: the same draws read the other way, so the two pages agree but for the sign."""

    def turn(d: Optional[bootstrap.Difference]) -> Optional[bootstrap.Difference]:
        return None if d is None else bootstrap.flip(d)

    rows = [replace(r, score_a=r.score_b, score_b=r.score_a, seeds_a=r.seeds_b, seeds_b=r.seeds_a,
                    difference=turn(r.difference), draws=None if r.draws is None else -r.draws) for r in result.tasks]
    averages = [replace(a, difference=turn(a.difference)) for a in result.averages]
    return compare.Comparison(result.model_b, result.model_a, rows, averages, result.resamples, result.margin)
