"""One typed run config (harness/run/runconfig.py): `bench run`'s flags, preflight, the runner and the demo
take their defaults and checks from it, so none restates them."""

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.run import models, preflight, runconfig
from harness.tasks import spec

# `bench run`'s option -> the RunOptions field it sets
FLAG_FIELDS = {"seeds": "seeds", "results": "output_dir", "device": "device", "force": "force", "compile_": "compile",
               "allow_single_class": "allow_single_class", "limit": "limit", "eval_limit": "eval_limit",
               "data_dir": "data_dir", "train_split": "train_split", "eval_split": "eval_split"}


def test_bench_run_takes_every_default_from_the_run_config():
    run = typer.main.get_command(app).commands["run"]
    defaults = {p.name: p.default for p in run.params}
    for flag, name in FLAG_FIELDS.items():
        expected = runconfig.default(name)
        if name == "seeds":
            expected = ",".join(map(str, expected))
        assert defaults[flag] == expected, flag
    # the rest: --set (parsed by runconfig.from_flags), and what callers such as bench demo say
    assert set(FLAG_FIELDS.values()) | {"overrides", "extra_deviations", "tier"} == set(runconfig.RunOptions.model_fields)


def test_a_value_a_setting_cannot_take_is_a_usage_error_naming_the_flag(tmp_path):
    result = CliRunner().invoke(app, ["run", "--model", "fixture/model-a", "--compile", "sometimes", "--results", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--compile: Input should be 'on', 'off' or 'auto' (got 'sometimes')" in result.output
    with pytest.raises(ValueError):
        runconfig.RunOptions(seeds=[])  # a run has a seed


def test_preflight_checks_the_run_config_it_is_given(tiny_english_bert):
    model = models.resolve(str(tiny_english_bert))
    sst2 = spec.load_tasks(["glue/sst2"])
    assert preflight.check_run(sst2, model, runconfig.RunOptions(data_dir=SAMPLES_DIR, device="cpu")) == []
    problems = preflight.check_run(sst2, model, runconfig.RunOptions(data_dir=SAMPLES_DIR, device="cpu",
                                                                      overrides={"epochs": 0, "max_lenght": 64}))
    assert problems == ["glue/sst2: --set max_lenght: unknown hyperparameter; known: learning_rate, batch_size, epochs, "
                        "warmup_ratio, weight_decay, max_length, eval_batch_size, evals_per_epoch"]
    (problem,) = preflight.check_run(sst2, model, runconfig.RunOptions(data_dir=SAMPLES_DIR, device="cpu",
                                                                        overrides={"epochs": 0}))
    assert problem == "glue/sst2: --set epochs: Input should be greater than 0"


def test_from_flags_parses_set_items_as_yaml_and_lists_every_problem(tmp_path):
    """The one parser of `bench run`'s flags into a RunOptions: the command line and benchmarks/suite_speed.py use it."""
    opts = runconfig.from_flags(["epochs=2", "learning_rate=0.001", "max_length= 64"], seeds=[1, 2], output_dir=tmp_path)
    assert opts.overrides == {"epochs": 2, "learning_rate": 0.001, "max_length": 64}
    assert (opts.seeds, opts.output_dir, opts.compile) == ([1, 2], tmp_path, runconfig.default("compile"))
    with pytest.raises(runconfig.OptionsError) as caught:
        runconfig.from_flags(["epochs", "=3", "warmup_ratio=[0.1"])
    problems = str(caught.value).splitlines()
    assert problems[:2] == ["--set 'epochs': expected key=value, e.g. --set learning_rate=3e-5",
                            "--set '=3': expected key=value, e.g. --set learning_rate=3e-5"]
    assert len(problems) == 3 and problems[2].startswith("--set 'warmup_ratio=[0.1'")
    with pytest.raises(runconfig.OptionsError, match=r"--compile: Input should be 'on', 'off' or 'auto'"):
        runconfig.from_flags([], compile="sometimes")
