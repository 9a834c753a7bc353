"""How long the full bootstrap takes: every metric of the eight tasks, 3 seeds, 10,000 resamples, real dev sizes.

Predictions are synthetic (random labels, values and tagged sentences of the real sizes);
the time depends on the sizes, not on the values. Prints one line per task, the total,
the CPU count and the load average, since on a shared machine the load explains the wall
time; the CPU time (all threads of this process) is what an idle machine would need at most.

    python benchmarks/bootstrap_speed.py [--resamples 10000] [--seeds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from harness.stats import bootstrap
from harness.tasks.spec import load_tasks

# validation examples (sentences for NER) of the official dev splits, as ../shared/data/README.md lists them
DEV_SIZES = {"klue/ynat": 9107, "klue/sts": 519, "klue/nli": 3000, "klue/ner": 5000,
             "glue/mrpc": 408, "glue/stsb": 1500, "glue/sst2": 872, "glue/qnli": 5463}


def synthetic_predictions(spec, n: int, seeds: int, rng: np.random.Generator) -> bootstrap.SeedPredictions:
    """Gold and ``seeds`` predictions of the task's kind: labels right 80% of the time, values with noise, or tag sequences."""
    if spec.head == "regression":
        gold = np.round(rng.uniform(0, 5, n), 1)
        predicted = [gold + rng.normal(0, 0.8, n) for _ in range(seeds)]
    elif spec.head == "token-classification":
        labels = spec.dataset.labels
        gold = [rng.choice(len(labels), size=int(rng.integers(10, 80)), p=_tag_frequencies(labels)).tolist() for _ in range(n)]
        predicted = [[[t if rng.random() < 0.9 else int(rng.integers(len(labels))) for t in s] for s in gold]
                     for _ in range(seeds)]
    else:
        classes = len(spec.dataset.labels)
        gold = rng.integers(0, classes, n)
        predicted = [np.where(rng.random(n) < 0.8, gold, rng.integers(0, classes, n)) for _ in range(seeds)]
    return bootstrap.SeedPredictions(gold, predicted, labels=spec.dataset.labels,
                                     binarize_threshold=spec.metrics.binarize_threshold)


def _tag_frequencies(labels) -> np.ndarray:
    """Mostly O, as in KLUE-NER (about 80% of characters), the rest spread over the entity tags."""
    p = np.full(len(labels), 0.2 / (len(labels) - 1))
    p[list(labels).index("O")] = 0.8
    return p


def time_task(spec, n: int, seeds: int, resamples: int) -> dict:
    model = synthetic_predictions(spec, n, seeds, np.random.default_rng(0))
    started, cpu_started = time.perf_counter(), time.process_time()
    intervals = {metric: bootstrap.score_interval(model, metric, resamples) for metric in spec.metrics.names}
    return {"task": spec.id, "examples": n, "metrics": {m: [round(i.low, 2), round(i.high, 2)] for m, i in intervals.items()},
            "seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(time.process_time() - cpu_started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=bootstrap.RESAMPLES)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the timings here")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    for spec in load_tasks(["all"]):
        row = time_task(spec, DEV_SIZES[spec.id], args.seeds, args.resamples)
        rows.append(row)
        print(f"{row['task']:<10} {row['examples']:>5} examples  {row['seconds']:6.2f} s wall  {row['cpu_seconds']:6.2f} s CPU  "
              f"{row['metrics']}", flush=True)
    total = sum(r["seconds"] for r in rows)
    cpu = sum(r["cpu_seconds"] for r in rows)
    report = {"resamples": args.resamples, "seeds": args.seeds, "total_s": round(total, 2), "cpu_s": round(cpu, 2),
              "cpus": os.cpu_count(),
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "tasks": rows}
    print(f"total {total:.1f} s wall, {cpu:.1f} s CPU (all threads) for 8 tasks x {args.seeds} seeds x {args.resamples} resamples "
          f"on {os.cpu_count()} CPUs; load average before {report['load_average_before']}, after {report['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
