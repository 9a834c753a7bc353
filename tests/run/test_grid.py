"""The (task, seed) grid: shards, concurrent jobs in processes, failure isolation, equal scores."""

import pickle
import queue
from pathlib import Path

import pytest
import torch
from rich.console import Console

from harness.demo import SAMPLES_DIR
from harness.results import records
from harness.run import grid, models, runner
from harness.tasks import data, spec

import worker_faults


def test_shards_partition_the_grid_exactly(tmp_path):
    unused = models.ResolvedModel(id="fixture/unused", path="fixture/unused", revision="0")
    opts = runner.RunOptions(seeds=[42, 43, 44], output_dir=tmp_path)
    jobs = grid.plan([grid.Unit(task, unused, opts) for task in spec.load_tasks(["all"])])
    assert len(jobs) == 24
    for count in (1, 2, 3, 5, 24, 30):
        shards = [grid.shard(jobs, i, count) for i in range(count)]
        flat = [job for s in shards for job in s]
        assert sorted(flat, key=repr) == sorted(jobs, key=repr) and len(flat) == len(set(flat))
        assert max(map(len, shards)) - min(map(len, shards)) <= 1  # balanced


def test_shard_numbers_run_from_zero_to_count_minus_one():
    """SLURM's array ids run from 0: --shard 0/n is the first shard and (n-1)/n the last."""
    assert [grid.parse_shard(f"{i}/4") for i in range(4)] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert grid.parse_shard("0/1") == (0, 1)
    for bad in ("4/4", "-1/2", "0/0"):
        with pytest.raises(ValueError, match=r"i must satisfy 0 <= i < n"):
            grid.parse_shard(bad)
    for bad in ("1", "a/b", "1/2/3"):
        with pytest.raises(ValueError, match=r"expected i/n, e\.g\. --shard 0/4"):
            grid.parse_shard(bad)


def test_jobs_per_gpu_follow_its_free_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for free_gib, jobs in ((5, 1), (25, 2), (39.9, 3), (200, grid.MAX_JOBS_PER_GPU)):
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=0, f=free_gib: (int(f * grid.GIB), 141 * grid.GIB))
        assert grid.default_jobs_per_gpu() == jobs, free_gib


def test_worker_slots_on_the_cpu_one_gpu_or_every_gpu(monkeypatch):
    assert grid.worker_devices(2, "cpu") == ["cpu", "cpu"]
    assert grid.worker_devices(3, "cuda:1") == ["cuda:1"] * 3
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert grid.worker_devices(1, "auto") == ["cpu"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert grid.worker_devices(2, "auto") == ["cuda:0", "cuda:0", "cuda:1", "cuda:1"]


def test_a_worker_uses_as_many_threads_as_its_parent():
    """Same thread count, same order of float sums: --jobs 2 scores equal --jobs 1's."""
    before = torch.get_num_threads()
    try:
        grid._init_worker(queue.Queue(), queue.Queue(), 1 if before > 1 else 2)
        assert torch.get_num_threads() == (1 if before > 1 else 2)
        assert grid._slots is not None and grid._started is not None
    finally:
        torch.set_num_threads(before)
        grid._slots = grid._started = None


@pytest.fixture(scope="module")
def model(tiny_english_bert) -> models.ResolvedModel:
    return models.resolve(str(tiny_english_bert))


def _opts(output: Path, **changes) -> runner.RunOptions:
    base = dict(seeds=[1, 2], output_dir=output, data_dir=SAMPLES_DIR, overrides={"epochs": 1}, device="cpu")
    return runner.RunOptions(**{**base, **changes})


def _scores(output: Path) -> dict:
    return {p.name: records.to_json(records.read_result(p))["seeds"] for p in sorted(output.glob("*/*.json")) if ".failed" not in p.name}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory, model):
    output = tmp_path_factory.mktemp("jobs1")
    outcomes = grid.run(spec.load_tasks(["glue/stsb", "glue/sst2"]), model, _opts(output), jobs=1)
    assert [o.status for o in outcomes] == ["done", "done"]
    return output


def test_two_jobs_overlap_and_score_as_one(tmp_path, model, sequential):
    specs = spec.load_tasks(["glue/stsb", "glue/sst2"])
    outcomes = grid.run(specs, model, _opts(tmp_path), jobs=2)
    assert [o.status for o in outcomes] == ["done", "done"]
    runs = sorted((s["ran"]["start"], s["ran"]["end"]) for seeds in _scores(tmp_path).values() for s in seeds)
    assert len(runs) == 4
    assert any(runs[i + 1][0] < runs[i][1] for i in range(len(runs) - 1)), f"no two runs overlapped: {runs}"
    parallel, serial = _scores(tmp_path), _scores(sequential)
    assert {k: [s["scores"] for s in v] for k, v in parallel.items()} == {k: [s["scores"] for s in v] for k, v in serial.items()}


def test_a_failing_job_leaves_the_others_intact(tmp_path, model):
    good = spec.load_tasks(["glue/sst2"])[0]
    raw = spec.load_tasks(["glue/mrpc"])[0].model_dump()
    raw["dataset"]["local"]["files"]["train"]["path"] = "glue/MRPC/missing.tsv"
    broken = spec.TaskSpec.model_validate(raw)
    outcomes = grid.run([broken, good], model, _opts(tmp_path, seeds=[1]), jobs=2)
    assert [(o.task_id, o.status) for o in outcomes] == [("glue/mrpc", "failed"), ("glue/sst2", "done")]
    assert "missing.tsv" in outcomes[0].error
    assert list(_scores(tmp_path)) == ["glue__sst2.json"]
    assert next(tmp_path.glob("*/glue__mrpc.failed.json")).exists()


def test_shards_merge_into_whole_records(tmp_path, model, sequential):
    specs = spec.load_tasks(["glue/stsb", "glue/sst2"])
    first = grid.run(specs, model, _opts(tmp_path), jobs=1, shard_range=(0, 2))
    assert {o.status for o in first} == {"pending"}  # each task still misses the other shard's seed
    assert not _scores(tmp_path)
    second = grid.run(specs, model, _opts(tmp_path), jobs=1, shard_range=(1, 2))
    assert [o.status for o in second] == ["done", "done"]
    assert {k: [s["scores"] for s in v] for k, v in _scores(tmp_path).items()} == \
        {k: [s["scores"] for s in v] for k, v in _scores(sequential).items()}


def test_run_many_shares_one_pool_across_models_and_per_task_options(tmp_path, model, sequential):
    # a second model id on the same weights: the same task of two models must not be taken for one run
    other = models.ResolvedModel(id="fixture/tiny-english-bert-again", path=model.path, revision=model.revision)
    stsb, sst2 = spec.load_tasks(["glue/stsb", "glue/sst2"])
    units = [grid.Unit(stsb, model, _opts(tmp_path)), grid.Unit(sst2, model, _opts(tmp_path)),
             grid.Unit(sst2, other, _opts(tmp_path, seeds=[3], eval_limit=8))]
    outcomes = grid.run_many(units, jobs=2)
    assert [(o.task_id, o.status) for o in outcomes] == [("glue/stsb", "done"), ("glue/sst2", "done"), ("glue/sst2", "done")]
    mine = {p.name: records.to_json(records.read_result(p)) for p in outcomes[0].path.parent.glob("*.json")}
    assert {k: [s["scores"] for s in r["seeds"]] for k, r in mine.items()} == \
        {k: [s["scores"] for s in v] for k, v in _scores(sequential).items()}  # as `bench run` of the one model scores
    theirs = records.to_json(records.read_result(outcomes[2].path))
    assert outcomes[2].path.parent != outcomes[1].path.parent
    assert theirs["model"]["id"] == other.id and [s["seed"] for s in theirs["seeds"]] == [3]
    assert theirs["data"]["validation_examples"] == 8 and mine["glue__sst2.json"]["data"]["validation_examples"] > 8
    assert [o.status for o in grid.run_many(units, jobs=2)] == ["skipped"] * 3  # finished records are kept


def _count_loads(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = data.load

    def counting(task_spec, *args, **kwargs):
        calls.append(task_spec.id)
        return real(task_spec, *args, **kwargs)

    monkeypatch.setattr(data, "load", counting)
    return calls


def _workers_in_this_process(seed_jobs, workers, device, console):
    """grid.run_parallel's work done here, through the same worker function, so the test sees every data load."""
    grid._slots, grid._started = queue.Queue(), queue.SimpleQueue()
    grid._slots.put("cpu")
    for seed_job in seed_jobs.values():
        pickle.loads(pickle.dumps(seed_job))  # what a worker receives must travel to another process
        grid._run_job(seed_job)
    return {}


@pytest.mark.parametrize("jobs, shard_range", [(1, None), (2, None), (1, (0, 2)), (2, (1, 2))])
def test_each_task_loads_its_data_once_per_run(tmp_path, model, monkeypatch, jobs, shard_range):
    calls = _count_loads(monkeypatch)
    monkeypatch.setattr(grid, "run_parallel", _workers_in_this_process)
    specs = spec.load_tasks(["glue/stsb", "glue/sst2"])
    outcomes = grid.run(specs, model, _opts(tmp_path, overrides={"epochs": 1}), jobs=jobs, shard_range=shard_range)
    assert {o.status for o in outcomes} == ({"done"} if shard_range is None else {"pending"})
    assert sorted(calls) == ["glue/sst2", "glue/stsb"]
    calls.clear()
    again = grid.run(specs, model, _opts(tmp_path), jobs=jobs, shard_range=shard_range)  # the finished check loads too
    assert sorted(calls) == ["glue/sst2", "glue/stsb"]
    if shard_range is None:
        assert {o.status for o in again} == {"skipped"}


def test_a_task_that_cannot_load_fails_once_with_its_reason(tmp_path, model, monkeypatch):
    calls = _count_loads(monkeypatch)
    raw = spec.load_tasks(["glue/mrpc"])[0].model_dump()
    raw["dataset"]["local"]["files"]["train"]["path"] = "glue/MRPC/missing.tsv"
    broken = spec.TaskSpec.model_validate(raw)
    outcomes = grid.run([broken], model, _opts(tmp_path, seeds=[1, 2, 3]), jobs=1)
    assert [(o.task_id, o.status) for o in outcomes] == [("glue/mrpc", "failed")]
    assert calls == ["glue/mrpc"]
    failure = records.read_failure(next(tmp_path.glob("*/glue__mrpc.failed.json")))
    assert "missing.tsv" in failure.error.message and failure.seeds == [1, 2, 3]


def test_a_killed_worker_fails_only_its_own_run(tmp_path, model, monkeypatch):
    monkeypatch.setattr(grid, "_run_job", worker_faults.die_on_sst2_seed_2)
    specs = spec.load_tasks(["glue/stsb", "glue/sst2"])
    outcomes = grid.run(specs, model, _opts(tmp_path), jobs=2)
    assert [(o.task_id, o.status) for o in outcomes] == [("glue/stsb", "done"), ("glue/sst2", "failed")]
    assert "WorkerDied" in outcomes[1].error and "seed 2" in outcomes[1].error
    failure = records.read_failure(next(tmp_path.glob("*/glue__sst2.failed.json")))
    assert failure.error.type == "WorkerDied"
    assert [s["seed"] for s in _scores(tmp_path)["glue__stsb.json"]] == [1, 2]


def _copy_results(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def test_a_rerun_with_fewer_seeds_is_refused_before_training(tmp_path, model, sequential, monkeypatch):
    output = _copy_results(sequential, tmp_path / "out")
    before = {p: p.read_bytes() for p in output.rglob("*.json")}
    monkeypatch.setattr(runner, "finetune", lambda *a, **k: pytest.fail("trained despite the refusal"))
    with pytest.raises(grid.UsageError, match=r"holds seeds \[1, 2\]; this run asks for \[1\]"):
        grid.run(spec.load_tasks(["glue/stsb"]), model, _opts(output, seeds=[1]))
    assert {p: p.read_bytes() for p in output.rglob("*.json")} == before


def test_a_record_of_another_model_is_not_overwritten(tmp_path, model, sequential):
    output = _copy_results(sequential, tmp_path / "out")
    (path,) = output.glob("*/glue__stsb.json")
    record = records.read_result(path)
    other = record.model_copy(update={"model": record.model.model_copy(update={"id": "fixture/model-b"})})
    records.write(path, other)
    with pytest.raises(grid.UsageError, match="refusing to write over it"):
        grid.run(spec.load_tasks(["glue/stsb"]), model, _opts(output, force=True))
    assert records.read_result(path).model.id == "fixture/model-b"


def test_a_damaged_seed_cache_file_is_named_and_that_seed_runs_again(tmp_path, model, sequential):
    output = _copy_results(sequential, tmp_path / "out")
    (record_file,) = output.glob("*/glue__stsb.json")
    record_file.unlink()
    damaged = sorted(output.glob("*/.seeds/glue__stsb/*-seed2.json"))[0]
    damaged.write_text(damaged.read_text(encoding="utf-8")[:40], encoding="utf-8")  # cut short, as by a full disk
    console = Console(record=True, width=400)
    (outcome,) = grid.run(spec.load_tasks(["glue/stsb"]), model, _opts(output), console=console)
    assert outcome.status == "done"
    printed = console.export_text()
    assert str(damaged) in printed and "runs again" in printed
    again = [s.scores for s in records.read_result(record_file).seeds]
    assert again == [s.scores for s in records.read_result(next(sequential.glob("*/glue__stsb.json"))).seeds]


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_many_names_a_damaged_record_and_writes_a_good_one(tmp_path, model, jobs):
    (sst2,) = spec.load_tasks(["glue/sst2"])
    opts = _opts(tmp_path, seeds=[1], limit=32, eval_limit=32)
    path = records.record_path(tmp_path, model.record_dir, "glue/sst2")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": "koenbench.result/2", "model": {"id": "x"', encoding="utf-8")  # cut short
    console = Console(record=True, width=400)
    (outcome,) = grid.run_many([grid.Unit(sst2, model, opts)], console, jobs=jobs)
    assert outcome.status == "done"
    printed = console.export_text()
    assert str(path) in printed and "not a readable record" in printed and "writes a new record in its place" in printed
    assert records.read_result(path).task.id == "glue/sst2" and [s.seed for s in records.read_result(path).seeds] == [1]
