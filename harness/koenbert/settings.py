"""The settings of `bench koenbert distill` (step 2), typed; kept apart from distill.py so that
`bench --help` and the recipe schema load without torch."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

LANGS = ("ko", "en")


class DistillError(ValueError):
    """A setting, an output directory or a model the user must fix; the message names the flag and the fix."""


# ---------------------------------------------------------------------------------------------
# Settings. The defaults are the koenbert-base recipe; recipes/koenbert-base.yaml
# spells them out. Units and reasons on each line.
# ---------------------------------------------------------------------------------------------
class DistillConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Models as `bench run --model` names them: a hub id (resolved once to one commit), a local folder, a models.yaml name.
    student: str  # step 1's output: a Korean BERT whose vocabulary also holds the English pieces
    ko_teacher: str  # frozen; reads the Korean corpus (klue/bert-base)
    en_teacher: str  # frozen; reads the English corpus (bert-base-uncased)
    ko_corpus: list[str]  # plain-text files (one text per line) or directories of *.txt
    en_corpus: list[str]
    out: str  # the published model folder: the distilled student, its tokenizer and distill.json, nothing else
    work: Optional[str] = None  # chunk cache, checkpoints, log.jsonl, distill-config.json; None: <out>.work beside out
    # The tasks whose validation text is dropped from the corpora (a line equal to one), as `bench run --data-dir`
    # reads them: None: the shared data folder; "hub": the hub's datasets (or their cache).
    data_dir: Optional[str] = None
    # Seconds a process waits for the others at a barrier: while the main process prepares the corpora (the
    # first run; tens of minutes for billions of tokens) or runs step 1 of a recipe. PyTorch's NCCL default is 600.
    process_group_timeout: int = Field(4 * 3600, ge=60)

    seq_len: int = Field(256, ge=3)  # tokens per chunk, [CLS] and [SEP] included
    batch_size: int = Field(16, ge=1)  # chunks per process per micro-step
    grad_accum: int = Field(1, ge=1)  # micro-steps per optimizer step; each draws its own language
    steps: int = Field(100_000, ge=1)  # optimizer steps; the schedule spans them
    lr: float = Field(5e-5, gt=0)  # peak learning rate of AdamW
    betas: tuple[float, float] = (0.9, 0.98)  # AdamW (beta1, beta2); 0.98 as in RoBERTa/MiniLMv2
    weight_decay: float = Field(0.01, ge=0)  # on matrices and embeddings; never on biases and LayerNorm
    warmup: float = Field(0.01, ge=0, le=1)  # share of steps with linear warm-up; then linear decay to 0
    clip: float = Field(1.0, gt=0)  # max global gradient norm
    p_ko: float = Field(0.5, ge=0, le=1)  # probability that a micro-step is Korean, else English
    relation_heads: int = Field(48, ge=1)  # A of MiniLMv2: 768 / 48 = 16 dims per relation head (see the recipe); divides every hidden size
    teacher_layer: int = -1  # which attention layer of the teachers to mimic; -1 = the last
    student_layer: int = -1  # which attention layer of the student learns it; -1 = the last
    seed: int = Field(0, ge=0)  # language coins, chunk order, dropout
    # Who cuts the distillation text. "student": the student's tokenizer, as in evaluation (the recipe).
    # "teachers": each teacher its own text, the first koenbert design, kept to measure what the
    # mismatch with evaluation costs (measured once in miniature: docs/koenbert-reproduction.md, History).
    segmentation: Literal["student", "teachers"] = "student"

    save_every: int = Field(1000, ge=1)  # optimizer steps between checkpoints
    keep_checkpoints: int = Field(2, ge=1)  # the newest N checkpoints stay on disk
    log_every: int = Field(10, ge=1)  # optimizer steps per line of log.jsonl
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 autocast on a GPU, fp32 on CPU
    stop_at: Optional[int] = Field(None, ge=1)  # checkpoint and stop after this step (time-limited jobs); --resume goes on


# Settings that may change between an interrupted run and its --resume; any other change
# would make the resumed run a different run, so it is refused.
CHANGEABLE_ON_RESUME = {"out", "work", "data_dir", "process_group_timeout", "save_every", "keep_checkpoints", "log_every",
                        "stop_at"}
