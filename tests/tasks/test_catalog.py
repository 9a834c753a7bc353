"""`bench tasks` and `bench metrics`; bad task files are named and skipped by `tasks` and `site build`,
and stop `run` before any training."""

import html
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.core import paths
from harness.tasks.metrics import METRICS


def bench(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def user_tasks(tmp_path) -> Path:
    """A user's task folder: a good variant, a file that is not YAML, and one in the wrong suite folder."""
    root = tmp_path / "mytasks"
    (root / "klue").mkdir(parents=True)
    (root / "klue" / "ner_long.yaml").write_text("include: klue/ner\nhyperparameters: {max_length: 1024}\n", encoding="utf-8")
    (root / "klue" / "broken.yaml").write_text("name: [oops\n", encoding="utf-8")
    (root / "mine").mkdir()
    shutil.copy(paths.TASKS_DIR / "glue" / "sst2.yaml", root / "mine" / "sst2_copy.yaml")  # says suite: glue
    return root


def test_tasks_lists_the_good_and_names_every_bad_file(user_tasks):
    result = bench("tasks", "--tasks-dir", str(user_tasks))
    assert result.exit_code == 2
    for task_id in ("glue/mrpc", "klue/ynat", "klue/ner_long"):
        assert task_id in result.stdout
    assert "broken" not in result.stdout and "sst2_copy" not in result.stdout
    assert str(user_tasks / "klue" / "broken.yaml") in result.stderr and "not valid YAML" in result.stderr
    assert str(user_tasks / "mine" / "sst2_copy.yaml") in result.stderr
    assert "suite: is 'glue' but the file is in the folder 'mine'" in result.stderr
    assert "2 task file(s) could not be read" in result.stderr


def test_tasks_filters_by_suite_and_shows_one_task_in_detail(user_tasks, monkeypatch):
    monkeypatch.setenv(paths.TASKS_PATH_ENV, str(user_tasks))
    glue = bench("tasks", "--suite", "glue")
    assert glue.exit_code == 0, glue.output
    assert "glue/mrpc" in glue.stdout and "klue/" not in glue.stdout
    detail = bench("tasks", "klue/ner_long")
    assert detail.exit_code == 0, detail.output
    for text in ("klue/klue (config ner)", "klue/ner/klue-ner-v1.1_dev.tsv", "format klue-ner-tsv", "validation[:80%]",
                 "B-PS, I-PS", "primary entity_f1", "max_length", "1024", "best epoch on validation",
                 "includes", "this file changes: hyperparameters.max_length"):
        assert text in detail.stdout, text
    suite_with_a_bad_file = bench("tasks", "--suite", "klue")
    assert suite_with_a_bad_file.exit_code == 2 and "broken.yaml" in suite_with_a_bad_file.stderr


def test_task_text_is_shown_as_written_never_as_console_markup(tmp_path):
    (tmp_path / "mine").mkdir()
    text = (paths.TASKS_DIR / "glue" / "sst2.yaml").read_text(encoding="utf-8")
    text = text.replace("suite: glue", "suite: mine").replace("name: SST-2", "name: '[bold]x[/bold] [/x]'")
    (tmp_path / "mine" / "sst2.yaml").write_text(text, encoding="utf-8")
    result = bench("tasks", "mine/sst2", "--tasks-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "[bold]x[/bold] [/x]" in result.stdout


def test_unknown_task_in_tasks_gets_did_you_mean():
    result = bench("tasks", "klue/nerr")
    assert result.exit_code == 2 and "Did you mean klue/ner" in result.stderr


def test_metrics_lists_every_registered_metric_with_its_definition():
    result = bench("metrics")
    assert result.exit_code == 0
    for name, metric in METRICS.items():
        assert name in result.stdout
    assert "seqeval" in result.stdout and "KLUE-baseline" in result.stdout
    said = " ".join(result.stdout.split())
    for source in ("Koehn 2004", "Bouthillier et al. 2021", "Dror et al. 2018", "Holm 1979", "Schuirmann 1987",
                   "Welch-Satterthwaite", "docs/statistics.md", "no detectable difference"):
        assert source in said, source


@pytest.mark.parametrize("selection", [["--tasks", ""], ["--tasks", ","], ["--suite", "nosuch"]])
def test_run_refuses_an_empty_or_unknown_selection_before_any_work(tmp_path, selection):
    result = bench("run", "--model", str(tmp_path / "no-model"), *selection, "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "no task selected" in result.stderr or "unknown task 'nosuch'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_run_refuses_a_bad_selected_task_and_names_it(user_tasks, tmp_path):
    result = bench("run", "--model", str(tmp_path / "no-model"), "--suite", "klue", "--tasks-dir", str(user_tasks),
                   "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr and "not valid YAML" in result.stderr
    assert not (tmp_path / "out").exists()


def test_site_build_leaves_out_bad_task_files_names_them_and_exits_2(user_tasks, tmp_path):
    out = tmp_path / "site"
    result = bench("site", "build", "--reports", str(tmp_path / "no-reports"), "--out", str(out),
                   "--tasks-dir", str(user_tasks))
    assert result.exit_code == 2
    assert (out / "index.html").exists()
    variant_page = html.unescape((out / "tasks" / "klue__ner_long.html").read_text(encoding="utf-8"))
    assert "Variant of" in variant_page and "klue/ner</code>, changing hyperparameters.max_length" in variant_page
    assert "Variant of" not in (out / "tasks" / "klue__ner.html").read_text(encoding="utf-8")
    assert not list(out.glob("tasks/*broken*")) and not list(out.glob("tasks/*sst2_copy*"))
    assert "broken.yaml" in result.stderr and "sst2_copy.yaml" in result.stderr
    assert "2 task file(s) were left out of the site" in result.stderr


def test_site_warns_about_task_order_ids_that_are_not_tasks(tmp_path, caplog):
    from harness.site.build import collect

    with caplog.at_level("WARNING", logger="harness.site"):
        data = collect(tmp_path / "no-reports" / "results", paths.MODELS_FILE, paths.TASKS_DIR, tmp_path / "none.yaml",
                       task_order=["klue/ynat", "klue/nope"])
    assert list(data.tasks.index)[0] == "klue/ynat"
    assert "task_order" in caplog.text and "'klue/nope', which is not a task" in caplog.text
    assert "klue/ynat'" not in caplog.text
