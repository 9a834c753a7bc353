"""What `bench tasks` and `bench metrics` print: the task list, one task in detail, the metric registry.

Every text that comes from a task file is wrapped in ``rich.text.Text``, so a label or a
description with square brackets is shown as written, never read as console markup.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from harness.tasks import heads
from harness.tasks.metrics import METRICS
from harness.tasks.spec import TaskSpec


def _cells(*values: object) -> list[Text]:
    return [Text(str(v)) for v in values]


def tasks_table(specs: list[TaskSpec], title: str = "tasks") -> Table:
    table = Table(title=title)
    for column in ("id", "name", "lang", "head", "metrics", "epochs", "lr", "batch", "max len", "selection", "includes"):
        table.add_column(column)
    for s in specs:
        hp = s.hyperparameters
        table.add_row(*_cells(s.id, s.name, s.language, s.head, ", ".join(s.metrics.names), hp.epochs,
                              f"{hp.learning_rate:g}", hp.batch_size, hp.max_length, s.selection, s.includes or ""))
    return table


def _fields(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(*_cells(key, value))
    return table


def _sources(spec: TaskSpec) -> list[Table]:
    tables = []
    hub = spec.dataset.hub
    if hub:
        tables.append(_fields("data: the hub", [
            ("dataset", f"{hub.path}" + (f" (config {hub.name})" if hub.name else "")),
            ("revision", hub.revision or "main (not pinned)"),
            ("train", hub.train), ("validation", hub.validation),
            ("columns", ", ".join(f"{k} <- {v}" for k, v in hub.columns.items())),
        ]))
    local = spec.dataset.local
    if local:
        rows: list[tuple[str, object]] = [("train", local.train), ("validation", local.validation)]
        for split, f in local.files.items():
            options = [f"format {f.format}", "columns " + ", ".join(f"{k} <- {v}" for k, v in f.columns.items())]
            if f.label_map:
                options.append("label_map " + ", ".join(f"{k} -> {v}" for k, v in f.label_map.items()))
            for name in ("names", "token_column", "tag_column", "separator"):
                if getattr(f, name) is not None:
                    options.append(f"{name} {getattr(f, name)!r}")
            if not f.header:
                options.append("no header row")
            rows.append((f"file {split}", f"{f.path} ({'; '.join(options)})"))
        tables.append(_fields("data: local files under --data-dir", rows))
    return tables


def task_detail(spec: TaskSpec) -> Group:
    """One task: where it comes from, its data, labels, metrics and protocol."""
    about = [("id", spec.id), ("name", spec.name), ("suite", spec.suite), ("language", spec.language),
             ("description", spec.description), ("file", spec.path), ("head", spec.head)]
    if spec.includes:
        about.append(("includes", f"{spec.includes}; this file changes: {', '.join(spec.changed_keys) or 'nothing'}"))
    labels = spec.dataset.labels
    about.append(("labels", f"{len(labels)}: {', '.join(labels)}" if labels else "none (a score)"))
    metric_rows = [(("primary " if name == spec.metrics.primary else "") + name, METRICS[name].description)
                   for name in spec.metrics.names]
    metric_rows += list(spec.metrics.parameters.items())
    hp = spec.hyperparameters
    protocol = [*hp.model_dump().items(), ("selection", "best epoch on validation" if spec.selection == "best"
                                           else "last epoch")]
    return Group(_fields(spec.id, about), *_sources(spec), _fields("metrics", metric_rows), _fields("protocol", protocol))


def metrics_table() -> Table:
    table = Table(title="metrics (harness/tasks/metrics.py); scores are percentages, 0-100")
    for column in ("name", "heads", "what it computes", "reference definition"):
        table.add_column(column)
    for m in METRICS.values():
        scored = [name for name, head in heads.HEADS.items() if head.kind in m.kinds]
        table.add_row(*_cells(m.name, ", ".join(scored), m.description, m.reference))
    return table


STATISTICS = [  # what `bench run`'s intervals, `bench compare` and the site's marks compute, and the work each follows
    ("score", "the mean over seeds of the metric on the whole validation split"),
    ("interval", "95%: the validation examples resampled (10,000 times; sentences for NER), the same draws for every "
                 "seed, plus each model's seed effect, whose variance is estimated from its seeds: each resample draws "
                 "it from its sampling distribution (scaled inverse chi-square on seeds - 1 degrees of freedom, which "
                 "makes one model's seed level Student's t; Welch-Satterthwaite degrees of freedom for several models: "
                 "Welch 1947, Satterthwaite 1946). With 3 seeds a seed variance rests on 2 degrees of freedom; seeds "
                 "are a source of variance to estimate, not to assume away (Bouthillier et al. 2021, Accounting for "
                 "Variance in Machine Learning Benchmarks). Clipped to the metric's range (correlations -100 to 100, "
                 "the rest 0 to 100)"),
    ("one seed", "its seed variance is unknown: an interval covers the examples only and says so; `bench compare` gives "
                 "no verdict; a verdict needs 2 seeds of each model, 3 or more for a useful interval"),
    ("B - A", "paired: both models scored on the same resamples of the examples (Koehn 2004, Statistical Significance "
              "Tests for Machine Translation Evaluation); a bootstrap rather than a t-test, since F1 and correlations "
              "have no simple distribution (Dror et al. 2018, The Hitchhiker's Guide to Testing Statistical "
              "Significance in NLP)"),
    ("p and interval", "one rule: the two-sided bootstrap p-value, and as interval every difference that test does "
                       "not reject at 5%; p printed rounded down"),
    ("verdict", "better / worse when Holm's adjusted p (Holm 1979), over every task and suite average of the "
                "comparison, is below 0.05; otherwise 'no detectable difference', which is not a finding of equality"),
    ("--margin X", "two one-sided tests (Schuirmann 1987): 'equivalent within X' when both reject at 5% after Holm"),
    ("site marks", "bold: the best score of a task; ≈: no detectable difference from it, by the same rule with Holm "
                   "over every pair of models on the task (the best is picked by the same data)"),
    ("calibration", "measured by simulation, `python benchmarks/calibration.py`; figures in docs/statistics.md"),
]


def statistics_table() -> Table:
    """How intervals and verdicts are computed, with the sources: the second half of `bench metrics`."""
    return _fields("intervals and verdicts (harness/stats/bootstrap.py, docs/statistics.md)", STATISTICS)
