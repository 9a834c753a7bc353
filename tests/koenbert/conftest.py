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


@pytest.fixture(scope="session")
def korean_32k_tokenizer_dir(tmp_path_factory, shared_data):
    """A cased 32,000-piece Korean WordPiece, klue/bert-base's size, trained from the shared Korean training text
    (no validation text); ~3 s. Its cased pieces (``KBS``, ``##A``) are what case-folding is about."""
    from harness.koenbert.vocab import korean_sentences
    from harness.testing import tiny

    return tiny.train_korean_wordpiece(korean_sentences(shared_data, training_only=True),
                                       tmp_path_factory.mktemp("ko-32k"), vocab_size=32_000)
