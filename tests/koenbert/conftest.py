"""Fixtures for the koenbert tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models on shared cores: one thread avoids oversubscription (2 threads ran 20x slower beside other jobs)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
