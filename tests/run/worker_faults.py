"""Grid worker functions that die, for tests/run/test_grid.py: they run in spawned processes, so they live in a module."""

import os

from harness.run import grid


def die_on_sst2_seed_2(job: grid.SeedJob) -> None:
    grid.mark_started(job)
    if job.task.spec.id == "glue/sst2" and job.seed == 2:
        os._exit(9)  # as the OOM killer leaves a process: no exception, no cleanup
    grid.train(job)
