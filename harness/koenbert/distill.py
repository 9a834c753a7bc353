"""koenbert step 2: MiniLMv2 distillation from a Korean and an English teacher at once.

The student is step 1's extended Korean model. At every micro-step a coin picks a language:
a Korean batch goes through the Korean teacher (which keeps the student from forgetting its
Korean), an English batch through the English teacher (from which it learns English). Both
teachers are frozen; the loss is the MiniLMv2 Q-Q/K-K/V-V relation KL (see minilm.py) between
one layer of the teacher and one layer of the student, on the same token positions: the
student's tokenizer cuts all the text, and each teacher reads the same pieces (corpus.py,
segmentation.py).

The file reads top to bottom: the settings with their defaults, setup, the loop, the save; then
the checkpoints (safetensors and JSON, and tensors only through torch.load(weights_only=True)).
The models are resolved once, as `bench run --model` resolves them (sources.py); the corpora are
prepared once, before training, into the run's work folder (prepare.py), where the checkpoints and
log.jsonl go too: --out receives the distilled student, its tokenizer and distill.json only.

One process:   bench koenbert distill --student DIR --ko-teacher M --en-teacher M \\
                   --ko-corpus ko.txt --en-corpus en.txt --out runs/x
Several GPUs:  accelerate launch --multi_gpu --num_processes 8 $(which bench) koenbert distill ...
               (the same on CPU cores, over gloo; or torchrun --nproc_per_node 8 $(which bench) ...)
Every process reads its own slice of the same global batch, so N processes with batch B
train exactly like one process with batch N*B (the loss and the updates agree; test_distill.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
from rich.console import Console
from rich.markup import escape

from harness.koenbert import minilm, prepare, sources
from harness.koenbert.corpus import ChunkOrder, CorpusError, corpus_files, teacher_map
from harness.koenbert.prepare import is_korean, work_dir
from harness.koenbert.settings import CHANGEABLE_ON_RESUME, LANGS, DistillConfig, DistillError
from harness.run import optim
from harness.run.models import ResolvedModel, max_positions

__all__ = ["DistillConfig", "DistillError", "distill", "check_folders", "check_same_settings", "is_korean"]
MAX_UNKNOWN = 0.05  # share of a corpus's tokens a teacher may read as [UNK]; more means the wrong student or teacher


@dataclass
class TrainState:
    """Where the run is; saved as JSON in every checkpoint."""

    step: int = 0  # optimizer steps done
    micro_step: int = 0  # batches drawn; the language coin of batch i is a function of (seed, i)
    cursor: dict = field(default_factory=lambda: {lang: [0, 0] for lang in LANGS})  # (epoch, offset) per language
    tokens: int = 0  # tokens the student has read, all processes together


@dataclass
class Run:
    """Everything setup makes and the loop uses."""

    cfg: DistillConfig
    accelerator: Any
    console: Any
    precision: str
    out: Path  # the published model folder: the student, its tokenizer and distill.json
    work: Path  # checkpoints, chunks, log.jsonl, distill-config.json
    latest: Optional[Path]  # the newest checkpoint when resuming
    student: Any  # the MLM model, saved at the end
    student_tokenizer: Any
    body: Any  # the student's encoder, prepared by Accelerate (DDP, autocast)
    teachers: dict
    taps: dict
    student_tap: Any
    tables: dict  # lang -> tensor: student id -> that teacher's id of the same piece
    chunks: dict  # lang -> (n, seq_len) student ids
    orders: dict  # lang -> ChunkOrder
    trainable: list
    frozen: list
    optimizer: Any
    scheduler: Any
    teacher_pieces: dict  # lang -> what the teacher reads of the student's pieces (added rows, [UNK])
    state: TrainState = field(default_factory=TrainState)
    models: dict = field(default_factory=dict)  # role -> ResolvedModel: what was loaded, and what distill.json names
    corpus: dict = field(default_factory=dict)  # lang -> what preparing the corpus read, dropped and kept

    @property
    def log_path(self) -> Path:
        return self.work / "log.jsonl"

    @property
    def global_batch(self) -> int:
        return self.cfg.batch_size * self.accelerator.num_processes  # chunks per micro-step, all processes


def distill(cfg: DistillConfig, resume: bool = False, show_progress: bool = True, prepare_only: bool = False,
            processes: Optional[int] = None) -> dict:
    """Run (or with ``resume``, continue) a distillation; returns the summary also written to distill.json.

    ``prepare_only``: prepare the corpora in the work folder for a run on ``processes`` processes (default: this
    launch's) and stop; returns what was prepared."""
    if prepare_only:
        begun = start(cfg, resume)
        n = processes or begun.accelerator.num_processes
        corpora = prepared(cfg, begun, n)
        return {"processes": n, "corpus": {lang: manifest["report"] for lang, (_, manifest) in corpora.items()},
                "work": str(begun.work)}
    run = setup(cfg, resume)
    if run.state.step >= cfg.steps and (run.out / "distill.json").is_file():
        # a finished run resumed: its summary stays, not one of a session that trained nothing
        run.console.print(f"the run finished at step {run.state.step:,} of {cfg.steps:,}; {run.out} is kept as it is",
                          markup=False)
        return json.loads((run.out / "distill.json").read_text())
    tokens_before, started = run.state.tokens, time.perf_counter()
    first_loss, last_record = train(run, show_progress)
    return save(run, first_loss, last_record, tokens_before, started)


# ---------------------------------------------------------------------------------------------
# Setup: check everything that can be wrong before the first step.
# ---------------------------------------------------------------------------------------------
ROLES = ("student", "ko_teacher", "en_teacher")


@dataclass
class Start:
    """What setup and --prepare-only share: the processes, the folders, the corpus files and the resolved models."""

    accelerator: Any
    precision: str
    console: Any
    work: Path
    latest: Optional[Path]
    files: dict  # lang -> the corpus files
    models: dict  # role -> ResolvedModel
    student_tokenizer: Any


def start(cfg: DistillConfig, resume: bool) -> Start:
    """Join the processes, check the folders and the corpus files, resolve the three models once, load the student's
    tokenizer; the main process writes the settings into the work folder."""
    from transformers import AutoTokenizer

    accelerator, precision = _accelerator(cfg)
    console = Console(stderr=True, quiet=not accelerator.is_main_process, soft_wrap=True)  # soft_wrap: paths on one line
    work = work_dir(cfg)
    latest = check_folders(cfg, resume)
    files = {lang: corpus_files(getattr(cfg, f"{lang}_corpus"), f"--{lang}-corpus") for lang in LANGS}
    models = {role: sources.resolve(getattr(cfg, role), "--" + role.replace("_", "-"), DistillError) for role in ROLES}
    check_teachers(models["ko_teacher"], models["en_teacher"])
    resolved = {role: sources.provenance(m) for role, m in models.items()}
    if latest is not None:
        check_same_settings(cfg, work, resolved)
    accelerator.wait_for_everyone()  # every process has checked the folders before the main one writes into them
    student_tokenizer = _load(AutoTokenizer, cfg.student, "--student", source=models["student"].path)
    if accelerator.is_main_process:
        work.mkdir(parents=True, exist_ok=True)
        (work / "distill-config.json").write_text(json.dumps({**cfg.model_dump(mode="json"), "resolved": resolved}, indent=2) + "\n")
    return Start(accelerator, precision, console, work, latest, files, models, student_tokenizer)


def check_teachers(ko_teacher, en_teacher, flags=("--ko-teacher", "--en-teacher")) -> None:
    """One model passed as both teachers would teach the student both corpora: an error before anything loads."""
    sources.check_distinct((flags[0], ko_teacher), (flags[1], en_teacher), DistillError,
                           "the Korean teacher teaches the Korean corpus and the English one the English corpus: pass "
                           "two models (klue/bert-base and bert-base-uncased, or those --student was extended from)")


def prepared(cfg: DistillConfig, begun: Start, processes: int) -> dict[str, tuple[np.ndarray, dict]]:
    """Each language's chunks (memory-mapped) and manifest; prepared first, once, by the main process (prepare.py)."""
    from transformers import AutoTokenizer

    def load_tokenizer(model, flag):
        return _load(AutoTokenizer, model.id, flag, source=model.path)

    def log(message):
        begun.console.print(message, markup=False, highlight=False)

    def make():
        manifests = prepare.prepare(cfg, begun.files, prepare.cutters(cfg, begun.models, begun.student_tokenizer, load_tokenizer),
                                    begun.student_tokenizer, processes, begun.latest is not None, log)
        for lang, manifest in manifests.items():
            log(f"--{lang}-corpus: {_corpus_line(manifest)}")

    on_main(begun.accelerator, make)
    return {lang: prepare.load(cfg, lang) for lang in LANGS}


def _corpus_line(manifest: dict) -> str:
    r = manifest["report"]
    dropped = sum(r["validation_lines_dropped"].values())
    kept = {t: n for t, n in r["train_lines_kept"].items() if n}
    return (f"{manifest['chunks']:,} chunks of {manifest['seq_len']} tokens ({manifest['dtype']}) from {r['lines_used']:,} of "
            f"{r['lines_read']:,} lines read{' (the budget: the rest is not read)' if r['reached_budget'] else ''}; "
            f"{dropped:,} dropped as validation text of the {len(r['checked_against'])} tasks; lines equal to a train text: "
            + (", ".join(f"{t} {n:,}" for t, n in kept.items()) or "none"))


def on_main(accelerator, work: Callable[[], None]) -> None:
    """``work`` in the main process while the others wait (up to process_group_timeout). An error there is raised
    in every process, so that none waits for a process that has stopped."""
    error: Optional[BaseException] = None
    failure: list = [None]
    if accelerator.is_main_process:
        try:
            work()
        except Exception as err:  # noqa: BLE001 - every process must hear of it, whatever it is
            error, failure = err, [(type(err).__name__, str(err))]
    if accelerator.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        broadcast_object_list(failure)  # the others wait here for the main process
    if error is not None:
        raise error
    if failure[0] is not None:
        kind, message = failure[0]
        raise {"CorpusError": CorpusError, "DistillError": DistillError}.get(kind, RuntimeError)(message)


def setup(cfg: DistillConfig, resume: bool) -> Run:
    from accelerate.utils import set_seed
    from transformers import AutoModelForMaskedLM

    from harness.koenbert.minilm import QKVTap, check_relation_heads

    begun = start(cfg, resume)
    accelerator, console, models, student_tokenizer = begun.accelerator, begun.console, begun.models, begun.student_tokenizer
    set_seed(cfg.seed)
    student = _load(AutoModelForMaskedLM, cfg.student, "--student", source=models["student"].path)
    student_tap = QKVTap(student, cfg.student_layer, f"--student {cfg.student}")
    check_relation_heads(student.config.hidden_size, cfg.relation_heads, f"--student {cfg.student}")
    _check_positions(student.config, cfg.seq_len, f"--student {cfg.student}")
    teachers, taps, tables, teacher_pieces = {}, {}, {}, {}
    for lang in LANGS:
        teachers[lang], taps[lang], tables[lang], teacher_pieces[lang] = load_teacher(
            cfg, lang, student, student_tokenizer, source=models[f"{lang}_teacher"])
        teachers[lang].to(accelerator.device)

    if cfg.segmentation == "student":  # a teacher lacking the student's pieces is named before the corpora are prepared
        for lang in LANGS:
            sample = _first_lines_ids(begun.files[lang], student_tokenizer, f"--{lang}-corpus")
            _check_teacher_reads(cfg, lang, _unknown_share(sample, tables[lang], teacher_pieces[lang]["unk_id"],
                                                           student_tokenizer.unk_token_id),
                                 teacher_pieces[lang]["lacked"], f" (in its first {SAMPLE_LINES:,} lines, read before preparing it)")

    corpora = prepared(cfg, begun, accelerator.num_processes)
    chunks, orders = {lang: c for lang, (c, _) in corpora.items()}, {}
    global_batch = cfg.batch_size * accelerator.num_processes
    for lang in LANGS:
        if len(chunks[lang]) < global_batch:
            raise CorpusError(
                f"--{lang}-corpus: {len(chunks[lang])} chunks of {cfg.seq_len} tokens, fewer than one batch "
                f"({cfg.batch_size} x {accelerator.num_processes} processes = {global_batch}); add text or lower --batch-size")
        orders[lang] = ChunkOrder(len(chunks[lang]), global_batch, cfg.seed, LANGS.index(lang))
        teacher_pieces[lang]["unknown_share"] = _unknown_share(chunks[lang], tables[lang], teacher_pieces[lang].pop("unk_id"),
                                                             student_tokenizer.unk_token_id)
        _check_teacher_reads(cfg, lang, teacher_pieces[lang]["unknown_share"], teacher_pieces[lang]["lacked"], "")

    frozen = _freeze_unreachable(student, student_tap, student_tokenizer.cls_token_id, accelerator.device)
    trainable = [p for p in student.parameters() if p.requires_grad]
    optimizer, scheduler = _optimizer(cfg, trainable, accelerator.device)
    # Only the encoder is wrapped (DDP, autocast): calling the MLM model would compute vocabulary
    # logits (batch x 256 x 62k) that the loss never uses.
    body, optimizer = accelerator.prepare(student.base_model, optimizer)
    run = Run(cfg, accelerator, console, begun.precision, Path(cfg.out), begun.work, begun.latest, student, student_tokenizer,
              body, teachers, taps, student_tap, {k: torch.as_tensor(v, device=accelerator.device) for k, v in tables.items()},
              chunks, orders, trainable, frozen, optimizer, scheduler, teacher_pieces,
              models=models, corpus={lang: manifest["report"] for lang, (_, manifest) in corpora.items()})
    if begun.latest is not None:
        resume_from_checkpoint(run)
    elif resume:
        console.print(f"--resume: no checkpoint in {begun.work / 'checkpoints'}; starting at step 0", markup=False)
    console.print(
        f"student {cfg.student}: {sum(p.numel() for p in trainable):,} parameters trained, {len(frozen)} tensors frozen "
        f"(unreachable by the loss); {accelerator.num_processes} process(es), precision {begun.precision}; chunks: "
        f"ko {len(chunks['ko']):,}, en {len(chunks['en']):,} of {cfg.seq_len} tokens; teachers read as [UNK]: "
        + ", ".join(f"{k} {v['unknown_share']:.3%}" for k, v in teacher_pieces.items()), markup=False)
    return run


def _accelerator(cfg: DistillConfig):
    from accelerate import Accelerator

    if cfg.precision == "auto":
        precision = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    else:
        precision = {"bf16": "bf16", "fp32": "no"}[cfg.precision]
    # cpu=True without a GPU: Accelerate then joins CPU processes (gloo) started by `accelerate launch
    # --multi_gpu` or torchrun; without it, each would silently train alone.
    accelerator = Accelerator(mixed_precision=precision, cpu=not torch.cuda.is_available(),
                              kwargs_handlers=[process_group_kwargs(cfg.process_group_timeout)])
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise DistillError(
            f"{launched} processes were launched but Accelerate joined {accelerator.num_processes}; on CPU launch with "
            "`accelerate launch --multi_gpu --num_processes N` or `torchrun --nproc_per_node N` (`accelerate launch --cpu` starts one)")
    return accelerator, precision


def process_group_kwargs(timeout_s: int):
    """How long a process waits for the others at a barrier or collective (PyTorch's NCCL default: 10 minutes)."""
    from datetime import timedelta

    from accelerate.utils import InitProcessGroupKwargs

    return InitProcessGroupKwargs(timeout=timedelta(seconds=timeout_s))


def check_same_settings(cfg: DistillConfig, work: Path, resolved: Optional[dict] = None) -> None:
    """The resumed run's settings, and the models they resolve to now (``resolved``: role -> id, revision, source),
    are the run's."""
    saved = json.loads((work / "distill-config.json").read_text())
    now = {**cfg.model_dump(mode="json"), **({"resolved": resolved} if resolved is not None else {})}
    compared = set(saved) - CHANGEABLE_ON_RESUME - ({"resolved"} if resolved is None else set())
    changed = sorted(k for k in compared if saved[k] != now.get(k))
    if changed:
        diffs = "; ".join(f"{k}: {saved[k]!r} -> {now.get(k)!r}" for k in changed)
        raise DistillError(f"--resume {cfg.out}: the settings differ from the run's ({work / 'distill-config.json'}): {diffs}. "
                           "An exact resume needs the same settings and models; change them back, or start a new --out")


def load_teacher(cfg: DistillConfig, lang: str, student, student_tokenizer, source: Optional[ResolvedModel] = None):
    """One frozen teacher, its relation tap, and the table through which it reads the student's pieces.

    A student piece the teacher lacks is read through the student's own initial row when the
    student was extended from this teacher (the same hidden size and the same rows for the
    pieces they share: step 1's rows for the new pieces live in the teacher's space); otherwise
    the teacher reads it as [UNK].
    """
    from transformers import AutoModel, AutoTokenizer

    from harness.koenbert.minilm import QKVTap, check_relation_heads

    name, flag = getattr(cfg, f"{lang}_teacher"), f"--{lang}-teacher"
    path = source.path if source is not None else None
    tokenizer = _load(AutoTokenizer, name, flag, source=path)
    teacher = _load(AutoModel, name, flag, quiet=True, source=path).eval().requires_grad_(False)
    tap = QKVTap(teacher, cfg.teacher_layer, f"{flag} {name}")
    check_relation_heads(teacher.config.hidden_size, cfg.relation_heads, f"{flag} {name}")
    _check_positions(teacher.config, cfg.seq_len, f"{flag} {name}")
    table, missing = teacher_map(student_tokenizer, tokenizer)
    pieces = {"lacked": len(missing), "rows_added": 0, "unk_id": tokenizer.unk_token_id}
    if missing and _extended_from(student, teacher, table, tokenizer.unk_token_id):
        ids = [student_tokenizer.convert_tokens_to_ids(p) for p in missing]
        first = teacher.get_input_embeddings().weight.shape[0]
        teacher.resize_token_embeddings(first + len(ids), mean_resizing=False)
        with torch.no_grad():
            teacher.get_input_embeddings().weight[first:] = student.get_input_embeddings().weight[ids]
        table[ids] = np.arange(first, first + len(ids))
        pieces["rows_added"] = len(ids)
    return teacher, tap, table, pieces


def _extended_from(student, teacher, table: np.ndarray, unk_id: int) -> bool:
    """Whether the student's rows of the pieces it shares with the teacher are the teacher's rows."""
    s, t = student.get_input_embeddings().weight, teacher.get_input_embeddings().weight
    if s.shape[1] != t.shape[1]:
        return False
    shared = np.flatnonzero(table[: len(s)] != unk_id)[:2000]
    return bool(torch.allclose(s[shared], t[torch.as_tensor(table[shared])], atol=1e-6))


SAMPLE_LINES = 2_000  # corpus lines cut before preparing: enough to tell a teacher that lacks the student's pieces


def _first_lines_ids(files: list[Path], student_tokenizer, flag: str) -> np.ndarray:
    """The student's ids of the first ``SAMPLE_LINES`` lines of a corpus (read before the whole is prepared)."""
    from itertools import islice

    from harness.koenbert.corpus import read_texts

    lines = list(islice(read_texts(files, flag), SAMPLE_LINES))
    ids = student_tokenizer(lines, add_special_tokens=False)["input_ids"] if lines else []
    return np.fromiter((i for row in ids for i in row), dtype=np.int64)


def _check_teacher_reads(cfg: DistillConfig, lang: str, share: float, lacked: int, where: str) -> None:
    """A CorpusError if the ``lang`` teacher reads more than ``MAX_UNKNOWN`` of the corpus tokens (``where``: which of them) as [UNK]."""
    if share > MAX_UNKNOWN:
        raise CorpusError(
            f"--{lang}-teacher {getattr(cfg, f'{lang}_teacher')} would read {share:.1%} of the --{lang}-corpus tokens{where} "
            f"as [UNK]: the student --student {cfg.student} cuts the text into pieces the teacher lacks "
            f"({lacked:,} of them); make the student with `bench koenbert extend` from these teachers, or pass the "
            "teacher it was extended with")


def _unknown_share(chunks: np.ndarray, table: np.ndarray, unk_id: int, student_unk_id: int) -> float:
    """Share of the corpus's tokens (the first 2,000 chunks) that the teacher reads as [UNK] for want of
    the student's piece (the student's own [UNK]s are not counted: the teacher reads them as they are)."""
    sample = np.asarray(chunks[: min(len(chunks), 2000)], dtype=np.int64)
    return round(float(((table[sample] == unk_id) & (sample != student_unk_id)).mean()), 6)


def _freeze_unreachable(student, tap, probe_id: int, device) -> list[str]:
    """Freeze the parameters the loss cannot reach; returns their names.

    The MLM head, the distilled layer's attention output and feed-forward and later layers get
    no gradient, and DDP refuses parameters that never get one. One backward pass finds them,
    so any BERT-like student works without a name list.
    """
    student.to(device).eval()  # eval: this probe must not draw dropout randomness
    student.base_model(input_ids=torch.full((1, 4), probe_id, device=device))
    sum(x.float().sum() for x in tap.take()).backward()
    frozen = [n for n, p in student.named_parameters() if p.grad is None]
    for p in student.parameters():
        p.requires_grad_(p.grad is not None)
        p.grad = None
    student.train()
    return frozen


def _optimizer(cfg: DistillConfig, trainable: list, device):
    """The shared AdamW and linear schedule (harness/run/optim.py) with the run's settings. The schedule is
    stepped by hand once per optimizer step: Accelerate would step a prepared scheduler once per process."""
    return optim.adamw(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay, warmup_ratio=cfg.warmup,
                       total_steps=cfg.steps, device=device, betas=cfg.betas)


# ---------------------------------------------------------------------------------------------
# The loop.
# ---------------------------------------------------------------------------------------------
def train(run: Run, show_progress: bool) -> tuple[Optional[float], dict]:
    """Optimizer steps until the end (or --stop-at); returns (the first loss, the last log record)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    cfg, state = run.cfg, run.state
    stop = min(cfg.stop_at or cfg.steps, cfg.steps)
    window = _Window(state.tokens)
    started, first_loss, last_record = time.perf_counter(), None, {}
    shown: dict = {}  # the newest loss of each language, for the progress bar
    bar = Progress(TextColumn("distill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                   TimeRemainingColumn(), console=run.console, disable=not (run.accelerator.is_main_process and show_progress))
    with bar:
        task = bar.add_task("distill", total=cfg.steps, completed=state.step, info="")
        while state.step < stop:
            losses, lr, grad_norm = optimizer_step(run)
            for lang in LANGS:
                if losses[lang] is not None:
                    window.add(lang, losses[lang])
                    first_loss = float(losses[lang]) if first_loss is None else first_loss
            if state.step % cfg.log_every == 0 or state.step == stop:
                last_record = window.record(state, lr, grad_norm, started)
                if run.accelerator.is_main_process:
                    with open(run.log_path, "a") as f:
                        f.write(json.dumps(last_record) + "\n")
                shown.update({k: last_record["loss_" + k] for k in LANGS if last_record["loss_" + k] is not None})
                info = " ".join(f"loss {k} {v:.4f}" for k, v in shown.items())
                bar.update(task, info=f"{info}  {last_record['tokens_per_s']:,.0f} tok/s")
                window = _Window(state.tokens)
            bar.update(task, completed=state.step)
            if state.step % cfg.save_every == 0 or state.step == stop:
                save_checkpoint(run)
    return first_loss, last_record


def optimizer_step(run: Run) -> tuple[dict, float, torch.Tensor]:
    """``grad_accum`` micro-steps, each in a language a coin picks, then one AdamW step.

    Returns the mean loss per language over processes (None for a language not drawn), the
    learning rate this step used and the gradient norm before clipping.
    """
    cfg, state, accelerator = run.cfg, run.state, run.accelerator
    micro_losses = {lang: [] for lang in LANGS}
    for micro in range(cfg.grad_accum):
        lang = "ko" if is_korean(cfg, state.micro_step) else "en"
        state.micro_step += 1
        student_ids = next_batch(run, lang)
        mask = torch.ones_like(student_ids)  # packed chunks hold no padding; the loss still takes a mask
        with torch.no_grad(), accelerator.autocast():
            run.teachers[lang](input_ids=run.tables[lang][student_ids], attention_mask=mask)
        teacher_qkv = run.taps[lang].take()
        # DDP averages gradients only on the last micro-step of an optimizer step.
        last = micro == cfg.grad_accum - 1
        with contextlib.nullcontext() if last else accelerator.no_sync(run.body):
            run.body(input_ids=student_ids, attention_mask=mask)
            loss = minilm.minilm_loss(teacher_qkv, run.student_tap.take(), mask, cfg.relation_heads)
            accelerator.backward(loss / cfg.grad_accum)
        micro_losses[lang].append(loss.detach())
        state.tokens += student_ids.numel() * accelerator.num_processes  # all real tokens; as many per process
    grad_norm = accelerator.clip_grad_norm_(run.trainable, cfg.clip)
    lr = run.optimizer.param_groups[0]["lr"]  # the rate this step uses (0 on the first step of a warm-up)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    state.step += 1
    # Every process drew the same languages, so the lists align across processes.
    # Losses and the norm stay on the device: reading them (.item()) would stall the GPU every step;
    # _Window reads them once per log line.
    losses = {lang: accelerator.reduce(torch.stack(v).mean(), "mean") if v else None for lang, v in micro_losses.items()}
    return losses, lr, torch.as_tensor(grad_norm).detach()


def next_batch(run: Run, lang: str):
    """This process's slice of the next global batch of ``lang``, as student ids on the device."""
    start = run.accelerator.process_index * run.cfg.batch_size
    rows, run.state.cursor[lang] = run.orders[lang].take(run.state.cursor[lang], start, run.cfg.batch_size)
    return torch.as_tensor(run.chunks[lang][rows].astype(np.int64)).to(run.accelerator.device)


class _Window:
    """The losses and tokens between two lines of log.jsonl."""

    def __init__(self, tokens_at_start: int):
        self.losses = {lang: [] for lang in LANGS}
        self.tokens_at_start = tokens_at_start
        self.t0 = time.perf_counter()

    def add(self, lang: str, loss: torch.Tensor) -> None:
        self.losses[lang].append(loss)

    def record(self, state: TrainState, lr: float, grad_norm: torch.Tensor, started: float) -> dict:
        every = self.losses["ko"] + self.losses["en"]
        seconds = time.perf_counter() - self.t0
        return {"step": state.step, "lr": lr, "loss": _mean(every), "loss_ko": _mean(self.losses["ko"]),
                "loss_en": _mean(self.losses["en"]), "grad_norm": float(grad_norm), "tokens": state.tokens,
                "tokens_per_s": (state.tokens - self.tokens_at_start) / seconds,
                "elapsed_s": time.perf_counter() - started}


# ---------------------------------------------------------------------------------------------
# Save: a plain HF model directory (the student's MLM model and tokenizer) that `bench run` scores.
# ---------------------------------------------------------------------------------------------
def save(run: Run, first_loss: Optional[float], last_record: dict, tokens_before: int, started: float) -> dict:
    cfg, state, accelerator = run.cfg, run.state, run.accelerator
    for tap in (*run.taps.values(), run.student_tap):
        tap.remove()
    summary = {
        "finished": state.step >= cfg.steps,
        "step": state.step,
        "steps": cfg.steps,
        "first_loss": first_loss,
        "last": last_record,
        "processes": accelerator.num_processes,
        "precision": run.precision,
        "segmentation": "the student's tokenizer cuts the text of both languages; each teacher reads the same pieces",
        "teacher_pieces": run.teacher_pieces,
        "segmentation_agreement": _segmentation_agreement(Path(run.models["student"].path) if run.models else Path(cfg.student)),
        "models": {role: sources.provenance(m) for role, m in run.models.items()},  # by id and revision, never a path
        "corpus": run.corpus,  # per language: lines read and used, validation lines dropped, train lines kept
        "tokens_per_s": (state.tokens - tokens_before) / (time.perf_counter() - started),  # this session, all processes
        "wall_s": time.perf_counter() - started,
    }
    accelerator.wait_for_everyone()
    if accelerator.is_main_process and summary["finished"]:
        run.student.save_pretrained(run.out)
        run.student_tokenizer.save_pretrained(run.out)
        (run.out / "distill.json").write_text(json.dumps(summary, indent=2) + "\n")
        run.console.print(f"saved the distilled student to {run.out}", markup=False)
    elif accelerator.is_main_process:
        run.console.print(f"stopped at step {state.step:,} of {cfg.steps:,}; the same command with --resume goes on")
    accelerator.wait_for_everyone()
    return summary


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def check_folders(cfg, resume: bool) -> Optional[Path]:
    """The newest checkpoint of the run (None: start at step 0), after checking its two folders: the work folder
    (``check_work``) and --out, which a new run finds missing or empty. ``cfg``: the settings (or a recipe's
    distill section)."""
    out, work = Path(cfg.out), work_dir(cfg)
    for role in ROLES:
        name = getattr(cfg, role, None)  # a recipe's distill section has no student: it is step 1's output
        model = Path(name).expanduser().resolve() if name else None
        if model is None or not model.is_dir():  # a hub id, or a folder not there yet
            continue
        for flag, folder in (("--out", out), ("--work", work)):
            if folder.resolve() == model:
                raise DistillError(f"{flag} {folder}: is the --{role.replace('_', '-')} model's folder; the run would write "
                                   f"over it: choose another {flag}")
    if (out / "checkpoints").is_dir():
        raise DistillError(f"--out {out}: holds checkpoints/ (an earlier version kept the whole run there); move "
                           f"checkpoints/, chunks/, log.jsonl and distill-config.json into {work} (the work folder) and "
                           "pass --resume, or choose another --out")
    if work.resolve() == out.resolve() or out.resolve() in work.resolve().parents:
        raise DistillError(f"--work {work}: inside --out {out}; the published model folder holds the model alone: "
                           "choose a work folder beside it (the default: <out>.work)")
    latest = check_work(work, resume)
    if not resume and out.exists() and any(out.iterdir()):
        raise DistillError(f"--out {out}: exists and is not empty; pass --resume to continue the run in it, or choose another --out")
    return latest


def check_work(work: Path, resume: bool) -> Optional[Path]:
    """The newest checkpoint in the work folder (None: start at step 0); refuses to overwrite a run without --resume."""
    latest = next(iter(checkpoints_newest_first(work / "checkpoints")), None)
    ours = (work / "distill-config.json").exists()  # a run started here (maybe stopped before its first checkpoint)
    if not resume and (latest is not None or (work.exists() and any(work.iterdir()) and not ours)):
        raise DistillError(f"{work} (the run's work folder): exists and is not empty; pass --resume to continue the run "
                           "in it, or choose another --out (or --work)")
    return latest


def _mean(values: list) -> Optional[float]:
    return float(torch.stack(values).mean()) if values else None


def _load(cls, name: str, flag: str, quiet: bool = False, source: Optional[str] = None):
    """``cls.from_pretrained(source or name)`` (``source``: the resolved model's folder); a failure names the flag
    and ``name``. ``quiet``: no load report (a teacher's missing pooler or unused MLM head does not matter here)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    try:
        if quiet:
            hf_logging.set_verbosity_error()
        return cls.from_pretrained(source or name)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DistillError(f"{flag} {name}: cannot load it ({first}); give a local model directory or a hub id") from None
    finally:
        hf_logging.set_verbosity(verbosity)


def _check_positions(config, seq_len: int, name: str) -> None:
    limit = max_positions(config)
    if limit is not None and seq_len > limit:
        raise DistillError(f"{name}: has {limit} positions, fewer than --seq-len {seq_len}; lower --seq-len")


def _segmentation_agreement(student: Path) -> Optional[dict]:
    """Step 1's agreement per task (the student's report), or None for a student step 1 did not make."""
    report = student / "koenbert_extend_report.json"
    if not report.is_file():
        return None
    return json.loads(report.read_text(encoding="utf-8")).get("segmentation", {}).get("agreement")


# ---------------------------------------------------------------------------------------------
# Checkpoints: weights in safetensors, the rest in JSON; the optimizer's tensors and the RNG
# states through torch.load(weights_only=True), which builds tensors and plain containers and
# never runs code from the file. (Accelerate's save_state pickles custom state, and loading a
# pickle runs whatever a tampered file asks for.)
# ---------------------------------------------------------------------------------------------
def checkpoints_newest_first(checkpoints: Path) -> list[Path]:
    return sorted((p for p in checkpoints.glob("step-*") if p.is_dir() and p.name[5:].isdigit()), reverse=True)


def save_checkpoint(run: Run) -> None:
    """Write ``checkpoints/step-NNNNNNNN`` via a temporary name, so the newest complete one is always whole."""
    from safetensors.torch import save_file

    accelerator, checkpoints = run.accelerator, run.work / "checkpoints"
    final = checkpoints / f"step-{run.state.step:08d}"
    tmp = checkpoints / f"tmp-step-{run.state.step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        body = accelerator.unwrap_model(run.body)
        save_file({k: v.detach().contiguous().cpu() for k, v in body.state_dict().items()}, tmp / "model.safetensors")
        torch.save(run.optimizer.state_dict(), tmp / "optimizer.pt")
        (tmp / "scheduler.json").write_text(json.dumps(run.scheduler.state_dict()) + "\n")
        (tmp / "state.json").write_text(json.dumps(asdict(run.state)) + "\n")
    rng = {"cpu": torch.get_rng_state()}  # dropout's randomness; the coins and orders are seeded functions
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    torch.save(rng, tmp / f"rng-{accelerator.process_index}.pt")  # every process its own
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for old in checkpoints_newest_first(checkpoints)[run.cfg.keep_checkpoints:]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def resume_from_checkpoint(run: Run) -> None:
    """Load the newest checkpoint that reads back whole; a broken one is skipped with a warning."""
    import pickle

    from safetensors import SafetensorError

    unreadable = (OSError, ValueError, KeyError, TypeError, RuntimeError, pickle.UnpicklingError, SafetensorError)
    tried = []
    for path in checkpoints_newest_first(run.work / "checkpoints"):
        try:
            _load_checkpoint(run, path)
        except unreadable as err:  # what a truncated or altered file raises; weights_only refuses a pickled object
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            run.console.print(f"warning: checkpoint {escape(str(path))} cannot be read ({escape(first)}); "
                              "trying the previous one", style="yellow")
            tried.append(path.name)
            continue
        if run.accelerator.is_main_process:
            _truncate_log(run.log_path, run.state.step)  # a crash after the checkpoint left lines the resumed run rewrites
        run.console.print(f"resumed from {escape(str(path))} at step {run.state.step:,} of {run.cfg.steps:,}")
        return
    raise DistillError(f"--resume {run.out}: no checkpoint can be read ({', '.join(tried)}); remove "
                       f"{run.work / 'checkpoints'} to start over, or start a new --out")


def _load_checkpoint(run: Run, path: Path) -> None:
    from safetensors.torch import load_file

    device = run.accelerator.device
    rng_file = path / f"rng-{run.accelerator.process_index}.pt"
    if not rng_file.exists():
        raise ValueError(f"{rng_file.name} is missing: the checkpoint was written by fewer processes than run now")
    weights = load_file(path / "model.safetensors", device=str(device))
    optimizer = torch.load(path / "optimizer.pt", map_location=device, weights_only=True)
    scheduler = json.loads((path / "scheduler.json").read_text())
    state = TrainState(**json.loads((path / "state.json").read_text()))
    rng = torch.load(rng_file, weights_only=True)
    # everything read: now apply it, so that a broken file leaves the run as it was
    run.accelerator.unwrap_model(run.body).load_state_dict(weights)
    run.optimizer.load_state_dict(optimizer)
    run.scheduler.load_state_dict(scheduler)
    run.state.__dict__.update(asdict(state))
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])


def _truncate_log(log_path: Path, step: int) -> None:
    if log_path.exists():
        lines = [line for line in log_path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        log_path.write_text("".join(line + "\n" for line in lines))
