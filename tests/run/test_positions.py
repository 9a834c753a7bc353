"""The one position limit (models.max_positions), checked against what real transformers models take.

RoBERTa-like models number positions from pad_token_id + 1, so a RoBERTa with 514 position rows
(klue/roberta-base) takes 512 tokens; `bench run` and koenbert's distillation both refuse a longer
input before any training, with the same limit.
"""

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, RobertaConfig, RobertaForMaskedLM
from typer.testing import CliRunner

from harness.cli import app
from harness.demo import SAMPLES_DIR
from harness.run import models

ROWS, PAD = 24, 1  # position rows of the tiny configs, and RoBERTa's own pad id
EXTRA = {"longformer": {"attention_window": 4}, "luke": {"entity_vocab_size": 10, "entity_emb_size": 8}}


def _longest_input(model_type: str) -> int:
    """The longest input the model really runs, found by running it."""
    config = AutoConfig.for_model(model_type, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=ROWS, vocab_size=50, pad_token_id=PAD,
                                  **EXTRA.get(model_type, {}))
    model = AutoModel.from_config(config).eval()
    longest = 0
    for length in range(ROWS - 4, ROWS + 2):
        try:
            with torch.no_grad():
                model(input_ids=torch.full((1, length), 5))
        except (IndexError, RuntimeError):
            break
        longest = length
    assert models.max_positions(config) == longest, model_type
    return longest


@pytest.mark.parametrize("model_type", sorted(models.PADDING_OFFSET_MODELS))
def test_each_padding_offset_model_takes_its_rows_less_the_offset(model_type):
    assert _longest_input(model_type) == ROWS - (PAD + 1)


@pytest.mark.parametrize("model_type", ["bert", "electra", "distilbert", "deberta-v2"])
def test_other_encoders_take_every_row(model_type):
    assert _longest_input(model_type) == ROWS


@pytest.fixture(scope="module")
def tiny_roberta(tmp_path_factory, english_model_dir):
    """A randomly initialised RoBERTa (66 position rows: 64 tokens) saved with a real vocabulary."""
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=66, pad_token_id=PAD)
    out = tmp_path_factory.mktemp("tiny-roberta")
    RobertaForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_bench_run_refuses_a_max_length_past_robertas_positions(tiny_roberta, tmp_path):
    def run(max_length: int):
        return CliRunner().invoke(app, ["run", "--model", str(tiny_roberta), "--tasks", "glue/sst2", "--data-dir",
                                        str(SAMPLES_DIR), "--set", f"max_length={max_length}", "--set", "epochs=1",
                                        "--limit", "8", "--eval-limit", "8", "--device", "cpu", "--output", str(tmp_path)])

    refused = run(65)
    assert refused.exit_code == 2, refused.output
    assert "max_length 65 is above the 64 positions" in " ".join(refused.output.split())
    assert not list(tmp_path.glob("*/*.json"))  # nothing trained or written
    assert run(64).exit_code == 0


def test_distillation_refuses_a_seq_len_past_robertas_positions(tiny_roberta):
    from harness.koenbert.distill import _check_positions
    from harness.koenbert.settings import DistillError

    config = AutoConfig.from_pretrained(tiny_roberta)
    _check_positions(config, 64, "--student fixture/roberta")
    with pytest.raises(DistillError, match="has 64 positions, fewer than --seq-len 65"):
        _check_positions(config, 65, "--student fixture/roberta")
