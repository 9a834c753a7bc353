"""Calibration of `bench compare`'s statistics by simulation: false positives, coverage and power where the truth is known.

Each simulated comparison draws a fresh validation set and fresh seeds of two synthetic
classifiers, then calls the product's own functions (harness.stats.bootstrap's paired draws, seed
level and summaries; harness.results.compare's averages and Holm family), exactly as `bench compare`
and the site do. A classifier gets example i right with probability
expit(a_i + v_mi + b_m + u_ms): a_i the example's difficulty, shared by every model (so the
comparison is paired), v_mi the model's own view of it, b_m the model, u_ms the seed's
effect, one draw per seed moving every example. Its true score (accuracy over the population
of examples and seeds) comes from Gauss-Hermite quadrature.

The seed effect is set by the ratio of seed noise to example noise, both as standard
deviations of one seed's score in points: the seed noise is how much u moves the score, the
example noise sqrt(p(1 - p) / n) for n validation examples.

Settings: 2, 3, 5 and 10 seeds; ratios 0.5, 1, 2 and 4; MRPC- (408) and SST-2-sized (872)
validation sets; equal models (false positives: any verdict) and models 1 point apart (power,
and whether the interval covers the true difference); eight tasks of two equal models at
once (the family: at least one verdict among 8 tasks and 2 averages); boards of ten equal
models (the site's marks: at least one model marked as differing from the best). One seed
gives no verdict at all (``bootstrap.seeds_problem``), so it needs no simulation.

    python benchmarks/calibration.py [--comparisons 400] [--resamples 1000] [--json out.json]
    python benchmarks/calibration.py --quick      # the reduced version the tests run (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from scipy import optimize, special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: the clone's harness

from harness.results import compare  # noqa: E402
from harness.stats import bootstrap  # noqa: E402

MRPC, SST2 = 408, 872  # validation examples of GLUE's MRPC and SST-2 dev sets
MEAN_LOGIT, DIFFICULTY_SD, MODEL_SD = 1.8, 1.5, 0.8  # about 80% accuracy; examples differ; models differ on them
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(60)  # E[f(Z)], Z ~ N(0, 1) = sum(WEIGHTS * f(NODES)) / sqrt(2 pi)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


# ---------------------------------------------------------------------------------------------
# the simulated classifiers and their truth


def true_accuracy(shift: float, seed_sd: float) -> float:
    """Accuracy over the population of examples and seeds of a model whose logits are shifted by ``shift``."""
    sd = np.sqrt(DIFFICULTY_SD ** 2 + MODEL_SD ** 2 + seed_sd ** 2)
    return float(np.sum(WEIGHTS * special.expit(MEAN_LOGIT + shift + sd * NODES)))


def seed_noise(seed_sd: float) -> float:
    """Standard deviation, over seeds, of a model's accuracy over the examples (in points): what one seed moves."""
    examples_sd = np.sqrt(DIFFICULTY_SD ** 2 + MODEL_SD ** 2)
    by_seed = [np.sum(WEIGHTS * special.expit(MEAN_LOGIT + seed_sd * u + examples_sd * NODES)) for u in NODES]
    return float(100.0 * np.sqrt(np.sum(WEIGHTS * (np.array(by_seed) - np.sum(WEIGHTS * by_seed)) ** 2)))


@dataclass(frozen=True)
class Setting:
    seeds: int
    ratio: float  # seed noise / example noise, as standard deviations of one seed's score
    examples: int
    apart: float = 0.0  # true B - A in points

    def seed_sd(self) -> float:
        """The logit-scale seed effect that gives ``ratio``."""
        accuracy = true_accuracy(0.0, 0.0)
        target = self.ratio * 100.0 * np.sqrt(accuracy * (1 - accuracy) / self.examples)
        return float(optimize.brentq(lambda s: seed_noise(s) - target, 1e-6, 10.0))

    def shift(self, seed_sd: float) -> float:
        """The logit shift of B that puts its true accuracy ``apart`` points above A's."""
        if self.apart == 0:
            return 0.0
        base = true_accuracy(0.0, seed_sd)
        return float(optimize.brentq(lambda b: 100 * (true_accuracy(b, seed_sd) - base) - self.apart, -5.0, 5.0))


def simulate(rng: np.random.Generator, examples: int, seeds: int, shifts: list[float], seed_sd: float
             ) -> list[bootstrap.SeedPredictions]:
    """One fresh validation set and, per model (one logit shift each), its seeds' predictions."""
    gold = rng.integers(0, 2, examples)
    difficulty = rng.normal(MEAN_LOGIT, DIFFICULTY_SD, examples)
    models = []
    for shift in shifts:
        own = difficulty + rng.normal(0.0, MODEL_SD, examples) + shift
        right = [rng.random(examples) < special.expit(own + rng.normal(0.0, seed_sd)) for _ in range(seeds)]
        models.append(bootstrap.SeedPredictions(gold, [np.where(r, gold, 1 - gold) for r in right]))
    return models


# ---------------------------------------------------------------------------------------------
# the three kinds of simulated use


def rate(count: int, total: int) -> dict:
    """A share with its 95% Clopper-Pearson interval."""
    ci = stats.binomtest(count, total).proportion_ci(0.95)
    return {"rate": count / total, "low": float(ci.low), "high": float(ci.high), "count": count, "of": total}


def pairwise(setting: Setting, comparisons: int, resamples: int, seed: int) -> dict:
    """Two models compared on one task, as `bench compare` does it: verdicts, interval coverage and width."""
    rng = np.random.default_rng([seed, setting.seeds, int(setting.ratio * 100), setting.examples, int(setting.apart * 10)])
    seed_sd = setting.seed_sd()
    shift = setting.shift(seed_sd)
    truth_a, truth_b = (100 * true_accuracy(s, seed_sd) for s in (0.0, shift))
    verdicts, covered, covered_a, widths = {"A better": 0, "B better": 0, "no detectable difference": 0}, 0, 0, []
    for _ in range(comparisons):
        a, b = simulate(rng, setting.examples, setting.seeds, [0.0, shift], seed_sd)
        draws_a, draws_b = bootstrap.model_draws([a, b], "accuracy", resamples, rng)
        d = bootstrap.summarize(draws_b - draws_a, rng)  # what compare.compare_task does after loading
        score = bootstrap.interval_of(draws_a, rng)  # what the site and `bench run` show for A's score
        verdicts[d.verdict] += 1
        covered += d.low <= truth_b - truth_a <= d.high
        covered_a += score.low <= truth_a <= score.high
        widths.append(d.high - d.low)
    return {**asdict(setting), "seed_noise": seed_noise(seed_sd), "truth_a": truth_a, "truth_difference": truth_b - truth_a,
            "verdict": rate(comparisons - verdicts["no detectable difference"], comparisons),
            "b_better": rate(verdicts["B better"], comparisons), "a_better": rate(verdicts["A better"], comparisons),
            "coverage": rate(covered, comparisons), "score_coverage": rate(covered_a, comparisons),
            "median_width": float(np.median(widths))}


def family(tasks: int, seeds: int, ratio: float, comparisons: int, resamples: int, seed: int) -> dict:
    """Two equal models on ``tasks`` tasks (two suites, MRPC- and SST-2-sized in turn): a verdict anywhere is false."""
    rng = np.random.default_rng([seed, tasks, seeds, int(ratio * 100)])
    sizes = [MRPC if i % 2 == 0 else SST2 for i in range(tasks)]
    seed_sd = {n: Setting(seeds, ratio, n).seed_sd() for n in set(sizes)}
    any_raw = any_holm = 0
    for _ in range(comparisons):
        rows = []
        for i, n in enumerate(sizes):
            a, b = simulate(rng, n, seeds, [0.0, 0.0], seed_sd[n])
            task_id = f"{'klue' if i < tasks // 2 else 'glue'}/task{i}"
            row = compare.TaskComparison(task_id, "accuracy", seeds_a=seeds, seeds_b=seeds)
            row.draws = bootstrap.paired_draws(a, b, "accuracy", resamples, rng)
            row.difference = bootstrap.summarize(row.draws, rng)
            rows.append(row)
        result = compare.judge("fixture/a", "fixture/b", rows, resamples)  # suite averages, then Holm over the family
        tests = [r.difference for r in result.tasks] + [a.difference for a in result.averages]
        any_raw += any(t.p_value < 0.05 for t in tests)
        any_holm += any(t.verdict != "no detectable difference" for t in tests)
    return {"tasks": tasks, "averages": len(result.averages), "seeds": seeds, "ratio": ratio,
            "any_verdict_unadjusted": rate(any_raw, comparisons), "any_verdict_holm": rate(any_holm, comparisons)}


def board(models: int, seeds: int, ratio: float, examples: int, boards: int, resamples: int, seed: int) -> dict:
    """``models`` equal models on one task, as the site marks them: any model marked as differing from the best is false.

    Beside the site's rule (Holm over every pair, ``bootstrap.differ_from_best``), the rule it
    replaces for contrast: Holm over the pairs with the best alone.
    """
    rng = np.random.default_rng([seed, models, seeds, int(ratio * 100), examples])
    seed_sd = Setting(seeds, ratio, examples).seed_sd()
    marked_all = marked_best = 0
    for _ in range(boards):
        tested = simulate(rng, examples, seeds, [0.0] * models, seed_sd)
        best = int(np.argmax([m.point("accuracy") for m in tested]))
        marked_all += any(bootstrap.differ_from_best(tested, "accuracy", best, resamples, rng))
        draws = bootstrap.model_draws(tested, "accuracy", resamples, rng)
        with_best = [bootstrap.p_value(bootstrap.with_seed_level(draws[i] - draws[best], rng))
                     for i in range(models) if i != best]
        marked_best += bool((bootstrap.holm(with_best) < 0.05).any())
    return {"models": models, "seeds": seeds, "ratio": ratio, "examples": examples,
            "any_marked_holm_all_pairs": rate(marked_all, boards), "any_marked_holm_pairs_with_best": rate(marked_best, boards)}


# ---------------------------------------------------------------------------------------------
# the plan and the report


def plan(quick: bool) -> dict:
    if quick:
        return {"pairwise": [Setting(3, r, MRPC) for r in (0.5, 2.0)] + [Setting(3, 1.0, MRPC, apart=1.0)],
                "family": [(8, 3, 1.0)], "board": [(10, 3, 1.0, MRPC)]}
    pairs = [Setting(s, r, n, apart) for apart in (0.0, 1.0) for n in (MRPC, SST2) for s in (2, 3, 5, 10)
             for r in (0.5, 1.0, 2.0, 4.0)]
    return {"pairwise": pairs, "family": [(8, 3, 1.0), (8, 3, 2.0)], "board": [(10, 3, 1.0, SST2)]}


def run(quick: bool = False, comparisons: Optional[int] = None, resamples: Optional[int] = None, seed: int = 0,
        progress=None) -> dict:
    """Every setting of the plan; ``quick``: three pairwise settings, one family and one board, at reduced counts."""
    comparisons = comparisons or (150 if quick else 400)
    resamples = resamples or (400 if quick else 1000)
    small = max(20, comparisons // (3 if quick else 1))  # families and boards cost 8 and 10 bootstraps each
    started, cpu = time.perf_counter(), time.process_time()
    todo = plan(quick)
    out: dict = {"comparisons": comparisons, "resamples": resamples, "pairwise": [], "family": [], "board": []}
    for setting in todo["pairwise"]:
        out["pairwise"].append(pairwise(setting, comparisons, resamples, seed))
        if progress:
            progress(line(out["pairwise"][-1]))
    for tasks, seeds, ratio in todo["family"]:
        out["family"].append(family(tasks, seeds, ratio, small, resamples, seed))
    for models, seeds, ratio, examples in todo["board"]:
        out["board"].append(board(models, seeds, ratio, examples, small, resamples, seed))
    out["wall_s"], out["cpu_s"] = round(time.perf_counter() - started, 1), round(time.process_time() - cpu, 1)
    return out


def pct(r: dict) -> str:
    return f"{100 * r['rate']:5.1f}% [{100 * r['low']:.1f}, {100 * r['high']:.1f}]"


def line(row: dict) -> str:
    kind = f"apart {row['apart']:g}" if row["apart"] else "equal  "
    shown = (f"verdict {pct(row['verdict'])}" if not row["apart"]
             else f"B better {pct(row['b_better'])}  A better {pct(row['a_better'])}")
    return (f"{kind} n={row['examples']:<4} seeds={row['seeds']:<2} ratio={row['ratio']:<4g} {shown}  "
            f"coverage {pct(row['coverage'])}  score coverage {pct(row['score_coverage'])}  width {row['median_width']:.2f}")


def report(out: dict) -> str:
    lines = []
    for f in out["family"]:
        lines.append(f"family: {f['tasks']} tasks + {f['averages']} averages, {f['seeds']} seeds, ratio {f['ratio']:g}: any "
                     f"verdict unadjusted {pct(f['any_verdict_unadjusted'])}, with Holm {pct(f['any_verdict_holm'])}")
    for b in out["board"]:
        lines.append(f"board: {b['models']} equal models, {b['seeds']} seeds, ratio {b['ratio']:g}, n={b['examples']}: any "
                     f"marked as differing from the best: Holm over every pair {pct(b['any_marked_holm_all_pairs'])}, "
                     f"Holm over the pairs with the best {pct(b['any_marked_holm_pairs_with_best'])}")
    lines.append(f"{out['comparisons']} comparisons a setting, {out['resamples']} resamples each; "
                 f"{out['wall_s']} s wall, {out['cpu_s']} s CPU")
    return "\n".join(lines)


def _cell(r: dict) -> str:
    return f"{100 * r['rate']:.1f}% ({100 * r['low']:.1f}-{100 * r['high']:.1f})"


def markdown(out: dict) -> str:
    """The figures as markdown tables, as docs/statistics.md shows them (rates with 95% Clopper-Pearson intervals)."""
    lines = ["| seeds | examples | seed/example noise | verdict (equal models) | interval covers the difference | "
             "score interval covers | median width |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in (r for r in out["pairwise"] if not r["apart"]):
        lines.append(f"| {r['seeds']} | {r['examples']} | {r['ratio']:g} | {_cell(r['verdict'])} | {_cell(r['coverage'])} | "
                     f"{_cell(r['score_coverage'])} | {r['median_width']:.1f} |")
    lines += ["", "| seeds | examples | seed/example noise | B better (B truly 1 point ahead) | A better | "
              "interval covers the difference | median width |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in (r for r in out["pairwise"] if r["apart"]):
        lines.append(f"| {r['seeds']} | {r['examples']} | {r['ratio']:g} | {_cell(r['b_better'])} | {_cell(r['a_better'])} | "
                     f"{_cell(r['coverage'])} | {r['median_width']:.1f} |")
    lines += ["", "| two equal models | comparisons | a verdict anywhere, unadjusted p < 0.05 | a verdict anywhere, Holm |",
              "|---|---:|---:|---:|"]
    for f in out["family"]:
        lines.append(f"| {f['tasks']} tasks + {f['averages']} averages, {f['seeds']} seeds, seed/example noise "
                     f"{f['ratio']:g} | {f['any_verdict_holm']['of']} | {_cell(f['any_verdict_unadjusted'])} | "
                     f"{_cell(f['any_verdict_holm'])} |")
    lines += ["", "| equal models on one task | boards | one marked as differing from the best: Holm over every pair "
              "(the site) | Holm over the pairs with the best |", "|---|---:|---:|---:|"]
    for b in out["board"]:
        lines.append(f"| {b['models']} models, {b['seeds']} seeds, {b['examples']} examples, seed/example noise "
                     f"{b['ratio']:g} | {b['any_marked_holm_all_pairs']['of']} | {_cell(b['any_marked_holm_all_pairs'])} | "
                     f"{_cell(b['any_marked_holm_pairs_with_best'])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the reduced version the tests run")
    parser.add_argument("--comparisons", type=int, help="simulated comparisons a setting (default 400; quick 150)")
    parser.add_argument("--resamples", type=int, help="bootstrap resamples a comparison (default 1000; quick 400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--markdown", type=Path, help="also write the tables of docs/statistics.md here")
    parser.add_argument("--from-json", type=Path, help="no simulation: the tables of an earlier --json")
    args = parser.parse_args()
    if args.from_json:
        print(markdown(json.loads(args.from_json.read_text(encoding="utf-8"))), end="")
        return
    out = run(args.quick, args.comparisons, args.resamples, args.seed, progress=lambda s: print(s, flush=True))
    print(report(out))
    out.update(machine=platform.platform(), cpus=os.cpu_count(), python=platform.python_version(),
               load_average=[round(x, 2) for x in os.getloadavg()])
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(markdown(out), encoding="utf-8")


if __name__ == "__main__":
    main()
