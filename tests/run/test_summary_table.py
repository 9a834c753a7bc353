"""The table `bench run` prints at the end (a row for every task, whatever came before it) and its clock."""

import pytest
from rich.console import Console

from harness.run.runner import TaskOutcome, summary_table
from harness.stats.bootstrap import Interval
from harness.tasks import spec


@pytest.fixture(scope="module")
def specs():
    return spec.load_tasks(["glue/mrpc", "glue/stsb", "klue/ynat"])


def rendered(table) -> list[str]:
    console = Console(width=240, record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


def row(lines: list[str], task_id: str) -> list[str]:
    """The cells of a task's row, as printed."""
    [line] = [line for line in lines if line.lstrip("│ ").startswith(task_id)]
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def test_a_failed_or_pending_task_keeps_the_rows_after_it(specs):
    outcomes = [
        TaskOutcome("glue/mrpc", "failed", error="CUDA out of memory [sic]", wall_s=3.2, baseline={"f1": 81.22}),
        TaskOutcome("klue/ynat", "pending"),
        TaskOutcome("glue/stsb", "done", scores={"spearman": 88.123, "pearson": 88.5}, std={"spearman": 0.456},
                    wall_s=61.6, baseline={"spearman": 0.0}),
    ]
    lines = rendered(summary_table("fixture/model-a", outcomes, specs))
    assert row(lines, "glue/mrpc") == ["glue/mrpc", "failed", "f1", "-", "-", "-", "81.22", "CUDA out of memory [sic]", "3"]
    assert row(lines, "klue/ynat") == ["klue/ynat", "pending", "macro_f1", "-", "-", "-", "-", "", "0"]
    assert row(lines, "glue/stsb") == ["glue/stsb", "done", "spearman", "88.12", "-", "0.46", "0.00", "pearson 88.50", "62"]


def test_intervals_are_shown_for_the_tasks_that_have_them(specs):
    outcomes = [
        TaskOutcome("glue/stsb", "done", scores={"spearman": 88.0, "pearson": 87.0}, std={}),
        TaskOutcome("glue/mrpc", "done", scores={"f1": 84.0, "accuracy": 79.0}, std={"f1": 1.0}),
    ]
    intervals = {"glue/stsb": {"spearman": Interval(88.0, 86.5, 89.25), "pearson": Interval(87.0, 85.0, 88.0)}}
    lines = rendered(summary_table("fixture/model-a", outcomes, specs, intervals))
    assert row(lines, "glue/stsb")[3:8] == ["88.00", "[86.50, 89.25]", "0.00", "-", "pearson 87.00 [85.00, 88.00]"]
    assert row(lines, "glue/mrpc")[3:8] == ["84.00", "-", "1.00", "-", "accuracy 79.00"]


def test_numbers_are_right_aligned_and_words_left(specs):
    outcomes = [TaskOutcome("glue/mrpc", "done", scores={"f1": 8.0}, std={"f1": 0.5}, wall_s=7, baseline={"f1": 1.0})]
    lines = rendered(summary_table("fixture/model-a", outcomes, specs))
    header = next(line for line in lines if "primary" in line)
    values = next(line for line in lines if "glue/mrpc" in line)
    for column, value in (("score", "8.00"), ("± std", "0.50"), ("baseline", "1.00"), ("wall s", "7")):
        # a right-aligned value ends where its header ends
        assert values.index(value) + len(value) == header.index(column) + len(column), column
    for column, value in (("task", "glue/mrpc"), ("status", "done"), ("primary", "f1")):
        assert values.index(value) == header.index(column), column


def test_the_model_id_is_the_title_as_written(specs):
    lines = rendered(summary_table("fixture/[bold]model-a", [], specs))
    assert any("fixture/[bold]model-a" in line for line in lines)



def test_record_times_are_utc_whatever_the_machine_s_time_zone(monkeypatch):
    """Records end their times in Z: the clock must be read in UTC, not in the local zone."""
    import time
    from datetime import datetime, timezone

    from harness.run.runner import now

    monkeypatch.setenv("TZ", "Asia/Seoul")  # UTC+9 all year: a local reading is nine hours off
    time.tzset()
    try:
        stamp = datetime.strptime(now(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60
    finally:
        monkeypatch.undo()
        time.tzset()
