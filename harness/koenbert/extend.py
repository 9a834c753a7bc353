"""`bench koenbert extend`: a Korean BERT that also holds an English BERT's WordPiece pieces.

Reads top to bottom: check the inputs, case-fold the Korean vocabulary and give it the
student's normaliser, grow the vocabulary (vocab.py; the pieces weighed on training text, weighing.py), measure on every task's validation text
how each teacher reads the student's pieces (segmentation.py), score every init method on held-out shared pieces
and initialise the new rows (init.py), grow the Korean MLM model, save it with its tokenizer
and the report.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from harness.core.paths import SHARED_DATA
from harness.koenbert import init as initmod
from harness.koenbert import segmentation, sources, weighing
from harness.koenbert.corpus import reading_table
from harness.koenbert import vocab as vocabmod
from harness.koenbert.init import CHOICES, DEFAULT_INIT
from harness.koenbert.vocab import DEFAULT_POLICY, POLICIES, ExtendError
from harness.run.models import ResolvedModel, portable_id

REPORT_NAME = "koenbert_extend_report.json"
SCHEMA = "koenbench.koenbert-extend/5"  # 5: segmentation.shortfall (why a teacher does not read a task as its own); 4: each model named by {id, revision, source}
AGREEMENT_GOAL = segmentation.AGREEMENT_GOAL
EXCLUDED_SHOWN = 200  # excluded pieces listed in the report (the count is always complete)


@dataclass
class Inputs:
    """The two models and what extend reads of them."""

    ko: str  # as typed
    en: str
    ko_source: ResolvedModel  # what was loaded, and what the report names
    en_source: ResolvedModel
    ko_tok: Any
    ko_spec: dict
    en_spec: dict
    ko_model: Any
    head_missing: list
    ko_table: np.ndarray
    en_table: np.ndarray


def extend_model(
    ko: Union[str, Path],
    en: Union[str, Path],
    out: Path,
    init: str = DEFAULT_INIT,
    force: bool = False,
    seed: int = 0,
    heldout_fraction: float = 0.1,
    *,
    policy: str = DEFAULT_POLICY,
    design: str = segmentation.DESIGN,
    data_dir: Optional[Path] = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """Write the extended model (tokenizer, weights with MLM head, report) to `out`; return the report.

    ``design``: "student" (the uncased, Hangul-keeping normaliser; the recipe) or "cased" (the Korean
    teacher's normaliser kept: the first design, for the comparison in benchmarks/mini_koenbert.py).
    """
    started = time.time()
    out, data_dir = Path(out), Path(data_dir or SHARED_DATA)
    missing = check_options(init, policy, heldout_fraction, out, force, data_dir, design, models={"--ko": ko, "--en": en})
    inputs = load_inputs(ko, en, log)
    measured = not missing  # the measurements need the shared data; without it the model is built all the same
    if not measured:
        log(f"{data_dir}: {', '.join(missing)} not found; the report's tokenization measurements are skipped")
    korean, folding = student_korean(inputs.ko_spec, design, data_dir if measured else None, log)
    reference = None
    if measured:
        log("reading and tokenizing the Korean reference text")
        reference = vocabmod.KoreanReference(korean, vocabmod.korean_sentences(data_dir))
    requested = policy
    policy, weigh, note = vocabulary_policy(policy, design, korean, inputs, data_dir if measured else None, log)
    log(f"extending the vocabulary ({policy})")
    ext = vocabmod.extend_vocab(korean, inputs.en_spec, policy, reference, weigh)
    if measured:
        log("measuring on every task's validation text how each teacher reads the student's pieces")
        seg = measure_segmentation(inputs, ext.spec, data_dir, design)
    else:
        seg = {"design": design, "measured_on": f"not measured: {portable_id(str(data_dir))} lacks {', '.join(missing)}"}
    seg["korean_pieces"] = folding.as_dict() if folding else {"renamed": 0, "unreachable": 0, "unreachable_pieces": {}}
    init_report, rows = init_rows(inputs, ext, init, heldout_fraction, seed, log)
    log(f"growing the Korean model to {ext.size:,} pieces ({init_report['method']})")
    init_report["mlm_bias_new"] = _grow(inputs.ko_model, ext.first_new_id, rows)
    report = {
        "schema": SCHEMA,
        "korean": {"model": sources.provenance(inputs.ko_source), "pieces": ext.korean_size,
                   "hidden_size": int(inputs.ko_table.shape[1])},
        "english": {"model": sources.provenance(inputs.en_source), "pieces": ext.english_size,
                    "hidden_size": int(inputs.en_table.shape[1])},
        "vocab": {**_vocab_report(ext), **({"requested": requested, "requested_note": note} if requested != policy else {})},
        "segmentation": seg,
        "init": init_report,
        "output": {"dir": portable_id(str(out)), "vocab_size": ext.size, "mlm_head": "newly initialised: not in the Korean checkpoint"
                   if inputs.head_missing else "from the Korean checkpoint"},
    }
    save_atomically(out, inputs, ext, report, started)
    log(f"wrote {out}")
    return report


def check_options(init: str, policy: str, heldout_fraction: float, out: Path, force: bool, data_dir: Path,
                  design: str = segmentation.DESIGN, models: Optional[dict[str, Union[str, Path]]] = None) -> list[str]:
    """Every problem with the options at once (ExtendError), before loading anything; returns the data files missing.

    ``models``: flag -> the model as typed; a local folder among them is never inside --out, which --force replaces."""
    problems = []
    for flag, name in (models or {}).items():
        folder = Path(str(name)).expanduser()
        if folder.is_dir() and (out.resolve() == folder.resolve() or out.resolve() in folder.resolve().parents):
            problems.append(f"--out {out}: is the {flag} model's folder or holds it; writing there would replace the model "
                            "extend reads: choose another --out")
    if init not in CHOICES:
        problems.append(f"--init {init!r} is unknown; choose one of {', '.join(CHOICES)}")
    if policy not in POLICIES:
        problems.append(f"--vocab {policy!r} is unknown; choose one of {', '.join(POLICIES)}")
    if design not in ("student", "cased"):
        problems.append(f"design {design!r}: use 'student' (the recipe) or 'cased' (the first design)")
    if not 0.0 < heldout_fraction < 1.0:
        problems.append(f"--heldout-fraction {heldout_fraction} must be between 0 and 1 (0.1 holds out 10%)")
    if out.exists() and not _replaceable(out):
        problems.append(f"--out {out} exists and is not an earlier extend output (no {REPORT_NAME} in it); "
                        "--force only replaces those: remove it yourself or choose another directory")
    elif out.exists() and not force:
        problems.append(f"--out {out} exists; pass --force to replace it, or choose another directory")
    missing = vocabmod.data_files_missing(data_dir)
    if missing and policy == "korean-safe":
        problems.append(f"--data-dir {data_dir}: {', '.join(missing)} not found; --vocab korean-safe needs the Korean "
                        "reference text: point --data-dir or KOENBENCH_SHARED_DATA at the shared data folder")
    if problems:
        raise ExtendError(problems[0] if len(problems) == 1 else "\n  - ".join(["fix these options:", *problems]))
    return missing


def load_inputs(ko: Union[str, Path], en: Union[str, Path], log: Callable[[str], None]) -> Inputs:
    """Both models, each resolved once (a hub id to one commit's cache folder) and loaded from there."""
    log("resolving the models")
    ko_source = sources.resolve(str(ko), "--ko", ExtendError)
    en_source = sources.resolve(str(en), "--en", ExtendError)
    sources.check_distinct(("--ko", ko_source), ("--en", en_source), ExtendError,
                           "--ko is the Korean BERT that is extended, --en the English BERT whose pieces are added "
                           "(e.g. bert-base-uncased)")
    log(f"loading tokenizers: --ko {sources.shown(ko_source)}, --en {sources.shown(en_source)}")
    ko_tok, en_tok = _load(ko_source, "ko", "tokenizer"), _load(en_source, "en", "tokenizer")
    ko_spec = vocabmod.wordpiece_json(ko_tok, f"--ko {ko}")
    en_spec = vocabmod.wordpiece_json(en_tok, f"--en {en}")
    log("loading models")
    ko_model, head_missing = _load(ko_source, "ko", "mlm")
    en_model, _ = _load(en_source, "en", "base")
    return Inputs(str(ko), str(en), ko_source, en_source, ko_tok, ko_spec, en_spec, ko_model, head_missing,
                  _embeddings(ko_model, f"--ko {ko}", len(ko_spec["model"]["vocab"])),
                  _embeddings(en_model, f"--en {en}", len(en_spec["model"]["vocab"])))


def student_korean(ko_spec: dict, design: str, data_dir: Optional[Path], log) -> tuple[dict, Optional[segmentation.Folding]]:
    """The Korean half of the student's tokenizer: for the recipe's design, case-folded with the student's normaliser.

    Collisions (``##A`` and ``##a``) go to the piece the Korean teacher uses more often on the Korean
    training text of ``data_dir`` (none at hand: the piece already lower-case)."""
    if design == "cased":
        return ko_spec, None
    counts = None
    if data_dir is not None:
        log("counting the Korean teacher's pieces on the Korean training text")
        counts = segmentation.own_counts(ko_spec, vocabmod.korean_sentences(data_dir, training_only=True))
    folded, folding = segmentation.casefold_vocab(ko_spec, counts)
    log(f"case-folded {len(folding.renamed):,} Korean pieces; {len(folding.unreachable):,} left unreachable")
    return segmentation.uncased(folded), folding


def vocabulary_policy(policy: str, design: str, korean: dict, inputs: Inputs, data_dir: Optional[Path],
                      log) -> tuple[str, Optional[Callable], str]:
    """The policy to extend with, and for ``weighed`` the function that weighs the candidates on the training text of
    ``data_dir``. Without that text ``weighed`` cannot weigh: every piece is added, and the log and report say why
    (the third value). The cased design takes every piece: there the student reads each teacher's own pieces
    (corpus.StudentIds)."""
    if policy != "weighed":
        return policy, None, ""
    text, note = None, "the cased design reads every English teacher piece; every piece added"
    if design != "cased":
        text, why = weighing.reference_text(data_dir) if data_dir is not None else (None, "no shared data")
        note = f"{why} to weigh on; every piece added"
    if text is None:
        log(f"--vocab weighed: {note}")
        return "all", None, note
    log("weighing each English piece's cost to the Korean teacher against its use to the English teacher "
        f"(training text: {', '.join([*text.korean, *text.english])})")
    return policy, lambda candidates: weighing.weigh(korean, inputs.ko_spec, inputs.en_spec, candidates, text, log=log), ""


def measure_segmentation(inputs: Inputs, student_spec: dict, data_dir: Path, design: str = segmentation.DESIGN) -> dict:
    """How each teacher reads the student's pieces of its own language's validation text (the headline),
    and the alternatives measured the same way."""
    texts = segmentation.validation_texts(data_dir)
    if not texts:
        return {"design": design, "measured_on": f"not measured: {portable_id(str(data_dir))} holds no task's validation data"}
    used = segmentation.FOLDED if design == segmentation.DESIGN else segmentation.CASED
    options = segmentation.agreement_options(inputs.ko_spec, inputs.en_spec, texts, {used: student_spec})
    korean_lines = [line for lang, lines in texts.values() if lang == "ko" for line in lines]
    return {
        "design": design,
        "agreement": options[used],
        "agreement_design": used,
        "agreement_means": segmentation.MEANING[used],
        "options": options,
        "shortfall": _shortfall(inputs, student_spec, texts) if used == segmentation.FOLDED else {},
        "hangul_words_changed": segmentation.hangul_words_changed(student_spec, inputs.ko_spec, korean_lines),
        "measured_on": {task: {"language": lang, "texts": len(lines)} for task, (lang, lines) in texts.items()},
    }


def _shortfall(inputs: Inputs, student_spec: dict, texts: dict) -> dict:
    """Per task, the teacher's tokens it does not read as its own, by cause, with the costliest words."""
    first_added = vocabmod.with_pieces(inputs.ko_spec, [])[1]
    teachers = {"ko": inputs.ko_spec, "en": inputs.en_spec}
    tables = {lang: reading_table(student_spec, t) for lang, t in teachers.items()}
    return {task: segmentation.shortfall(student_spec, teachers[lang], tables[lang], lines, first_added, lang)
            for task, (lang, lines) in texts.items()}


def init_rows(inputs: Inputs, ext, init: str, heldout_fraction: float, seed: int, log) -> tuple[dict, np.ndarray]:
    """Score every method on held-out word-like shared pieces, then fit the chosen one on all shared pieces."""
    en_vocab = inputs.en_spec["model"]["vocab"]
    # the Korean half of the student's vocabulary: the Korean ids under their (case-folded) texts
    ko_vocab = {p: i for p, i in ext.spec["model"]["vocab"].items() if i < ext.first_new_id}
    src = inputs.en_table[[en_vocab[p] for p in ext.shared]]
    tgt = inputs.ko_table[[ko_vocab[p] for p in ext.shared]]
    korean = initmod.KoreanSide(inputs.ko_table, ko_vocab, seed=seed)
    log(f"fitting every init method on {len(ext.shared):,} shared pieces, {heldout_fraction:.0%} of the word-like held out")
    try:
        heldout = initmod.heldout_score(src, tgt, ext.shared, korean, heldout_fraction, seed)
    except ValueError as e:
        raise ExtendError(f"--ko {inputs.ko} and --en {inputs.en}: {e}") from None
    method = initmod.resolve(init, heldout)
    # each new piece from the English row the teacher reads it as (an accented letter: its base letter's)
    english_ids = reading_table(ext.spec, inputs.en_spec)[ext.first_new_id:ext.size]
    if (english_ids < 0).any():  # every new piece is an English piece or a letter the English teacher reads
        raise ValueError(f"new pieces the English teacher cannot read: {np.array(ext.new_pieces)[english_ids < 0][:5]}")
    rows = initmod.new_rows(method, src, tgt, inputs.en_table[english_ids], ext.new_pieces, korean)
    report = {"method": method, "requested": init, "default": DEFAULT_INIT, "heldout": heldout,
              "added_mean_chars": round(float(np.mean([len(p.removeprefix("##")) for p in ext.added])), 2) if ext.added else None}
    if method == "ridge":
        report["ridge_alpha"] = float(initmod.ridge_fit(src, tgt).alpha_)
    return report, rows


def _vocab_report(ext) -> dict:
    return {
        "policy": ext.policy,
        "shared": len(ext.shared),
        "english_missing": len(ext.candidates),
        "added": len(ext.added),
        "accented_letters": len(ext.letters),
        "accented_letter_pieces": ext.letters,
        "excluded": len(ext.excluded),
        "final_size": ext.size,
        "first_new_id": ext.first_new_id,
        "korean_check": ext.check,
        "excluded_pieces": ext.excluded[:EXCLUDED_SHOWN],
        "normalizer": "lowercase like the English teacher, accents kept so that Hangul syllables stay whole"
                      if segmentation.is_uncased(ext.spec) else "the Korean teacher's (cased)",
    }


def save_atomically(out: Path, inputs: Inputs, ext, report: dict, started: float) -> None:
    """Save into a temporary sibling, check it reloads, then move it into place."""
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _save(inputs.ko_tok, ext, inputs.ko_model, tmp)
        report["wall_s"] = round(time.time() - started, 1)
        (tmp / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- steps ------------------------------------------------------------------------------


def _replaceable(out: Path) -> bool:
    return out.is_dir() and (not any(out.iterdir()) or (out / REPORT_NAME).exists())


def _load(source: ResolvedModel, role: str, what: str):
    """A tokenizer, MLM model or base model from the resolved model's folder, or ExtendError."""
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    name = source.id
    try:
        if what == "tokenizer":
            return AutoTokenizer.from_pretrained(source.path)
        cls = AutoModelForMaskedLM if what == "mlm" else AutoModel
        model, info = cls.from_pretrained(source.path, output_loading_info=True)
    except (OSError, ValueError, KeyError) as e:
        raise ExtendError(f"--{role} {name}: cannot load the {what} ({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})") from None
    missing = sorted(info.get("missing_keys", []))
    if any("word_embeddings" in k for k in missing):
        raise ExtendError(f"--{role} {name}: the checkpoint has no input embeddings "
                          f"({', '.join(k for k in missing if 'word_embeddings' in k)}); "
                          "pass a BERT checkpoint with its embeddings")
    return model.eval(), [k for k in missing if k.startswith("cls.")]


def _embeddings(model, source: str, vocab_size: int) -> np.ndarray:
    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    if emb is None or not hasattr(emb, "weight"):
        raise ExtendError(f"{source}: {type(model).__name__} has no input embedding table")
    table = emb.weight.detach().float().numpy()
    if table.shape[0] < vocab_size:
        raise ExtendError(f"{source}: the input embedding table has {table.shape[0]} rows but the tokenizer "
                          f"has {vocab_size} pieces; the model and tokenizer do not belong together")
    return table.astype(np.float64)


def _grow(model, first_new_id: int, rows: np.ndarray) -> str:
    """Resize input embeddings, the (tied) decoder and the MLM bias; fill the new rows."""
    import torch

    old = model.get_output_embeddings()
    old_bias = getattr(old, "bias", None)
    bias_mean = float(old_bias.detach()[:first_new_id].mean()) if old_bias is not None else None
    model.resize_token_embeddings(first_new_id + len(rows), mean_resizing=False)
    inp, dec = model.get_input_embeddings(), model.get_output_embeddings()
    with torch.no_grad():
        inp.weight[first_new_id:] = torch.from_numpy(rows).to(inp.weight.dtype)
        if dec is not None and dec.weight.data_ptr() != inp.weight.data_ptr():  # untied head: same start
            dec.weight[first_new_id:] = torch.from_numpy(rows).to(dec.weight.dtype)
        if dec is not None and getattr(dec, "bias", None) is not None:
            # the new pieces get the Korean mean bias: a neutral prior until distillation trains them
            dec.bias[first_new_id:] = bias_mean
    model.config.vocab_size = first_new_id + len(rows)
    return "Korean mean bias" if bias_mean is not None else "no MLM bias"


def _save(ko_tok, ext, model, out: Path) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    ko_tok.save_pretrained(out)
    (out / "tokenizer.json").write_text(json.dumps(ext.spec, ensure_ascii=False), encoding="utf-8")
    segmentation.write_tokenizer_config(out)  # load tokenizer.json as it is, normaliser included
    pieces = sorted(ext.spec["model"]["vocab"].items(), key=lambda kv: kv[1])
    if [i for _, i in pieces] == list(range(len(pieces))):  # vocab.txt for slow tokenizers and older transformers
        (out / "vocab.txt").write_text("".join(p + "\n" for p, _ in pieces), encoding="utf-8")
    model.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    rows = AutoModelForMaskedLM.from_pretrained(out).get_input_embeddings().weight.shape[0]
    if len(tok) != ext.size or rows != ext.size:
        raise RuntimeError(f"saved model does not reload consistently: tokenizer {len(tok)}, embeddings {rows}, "
                           f"expected {ext.size}")


# --- the terminal table -----------------------------------------------------------------


def render_report(report: dict):
    """The report as rich tables: vocabulary, segmentation agreement per design and task, held-out fit of every method.

    Every cell is a rich Text, so a path or a piece from the files is never read as markup."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    v, seg, i = report["vocab"], report["segmentation"], report["init"]
    vocab = Table(title=Text(f"koenbert extend -> {report['output']['dir']}"), show_header=False)
    rows = [("Korean model", _named(report["korean"]["model"])), ("English model", _named(report["english"]["model"])),
            ("Korean pieces", f"{report['korean']['pieces']:,}  (hidden {report['korean']['hidden_size']})"),
            ("English pieces", f"{report['english']['pieces']:,}  (hidden {report['english']['hidden_size']})"),
            ("shared pieces", f"{v['shared']:,}"), ("English pieces missing", f"{v['english_missing']:,}"),
            ("added pieces", f"{v['added']:,}  (policy {v['policy']}; {v['excluded']:,} left out)"
             + (f"; --vocab {v['requested']}: {v['requested_note']}" if v.get("requested") else "")),
            ("accented letters added", f"{v.get('accented_letters', 0):,}  (read by the English teacher as their base letter)"),
            ("final vocab size", f"{v['final_size']:,}"), ("segmentation", seg["design"])]
    for name, value in rows:
        vocab.add_row(name, Text(value))
    if "agreement" not in seg:  # no shared data was at hand
        vocab.add_row("teacher-side agreement", Text(str(seg["measured_on"])))
        return Group(vocab, _fit_table(i))
    vocab.add_row("Korean pieces case-folded", f"{seg['korean_pieces']['renamed']:,}")
    unreachable = seg["korean_pieces"]["unreachable"]
    vocab.add_row("Korean pieces unreachable", f"{unreachable:,}" + ("  (each below, with why)" if unreachable else ""))
    vocab.add_row("Hangul words cut differently", f"{seg['hangul_words_changed']:,}")
    table = Table(title="teacher-side agreement: share of each teacher's own validation tokens (sentences) "
                        "it reads exactly as its own tokenizer cuts them")
    table.add_column("task")
    designs = list(seg["options"])
    for design in designs:
        used = " (used)" if design == seg["agreement_design"] else ""
        table.add_column(Text(design + used + (" [student side]" if design == segmentation.CASED else "")), justify="right")
    for task in seg["agreement"]:
        table.add_row(task, *(f"{seg['options'][d][task]['token_agreement']:.2%} ({seg['options'][d][task]['sentence_agreement']:.1%})"
                              for d in designs))
    low = {t: a["token_agreement"] for t, a in seg["agreement"].items() if a["token_agreement"] < AGREEMENT_GOAL}
    verdict = "yes" if not low else "no: " + ", ".join(f"{t} {a:.2%}" for t, a in low.items())
    vocab.add_row(f"agreement >= {AGREEMENT_GOAL:.0%} on every task", Text(verdict))
    parts = [vocab, table, _shortfall_table(seg.get("shortfall", {}), low), _weighing_table(v),
             _unreachable_table(seg["korean_pieces"]), _fit_table(i)]
    return Group(*(part for part in parts if part is not None))


def _shortfall_table(shortfall: dict, low: dict):
    """For each task below the goal: its teacher's lost tokens by cause, and the words that cost the most."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    tables = []
    for task in (t for t in low if t in shortfall):
        f = shortfall[task]
        causes = "; ".join(f"{cause}: {n:,}" for cause, n in f["by_cause"].items())
        ceiling = (f"; with no English piece it would read {f['without_english_pieces']:.2%}"
                   if "without_english_pieces" in f else "")
        table = Table(title=Text(f"why {task} misses the {AGREEMENT_GOAL:.0%} goal: {f['lost']:,} of its teacher's "
                                 f"{f['tokens']:,} tokens lost ({causes}){ceiling}; the costliest words"))
        for column in ("word", "teacher's cut", "student's cut", "tokens", "cause"):
            table.add_column(column, overflow="fold", justify="right" if column == "tokens" else "left")
        for w in f["words"]:
            table.add_row(Text(w["word"]), Text(w["teacher"]), Text(w["student"]), f"{w['tokens']:,}", Text(w["cause"]))
        tables.append(table)
    return Group(*tables) if tables else None


def _weighing_table(v: dict):
    """The weighed policy's evidence: each training source's agreement with every English piece and with those kept."""
    from rich.table import Table
    from rich.text import Text

    check = v.get("korean_check", {})
    if "korean_sources" not in check:
        return None
    table = Table(title=Text(f"weighing on training text: {v['excluded']:,} English pieces left out, until each Korean "
                             f"source reached {check['target']:.1%} ({'met' if check['met'] else 'not met'})"))
    table.add_column("training text", overflow="fold")
    for column in ("teacher", "sentences", "every English piece", "weighed (used)"):
        table.add_column(column, justify="left" if column == "teacher" else "right")
    for teacher, key in (("Korean", "korean_sources"), ("English", "english_sources")):
        for name, a in check[key].items():
            table.add_row(Text(name), teacher, f"{a['sentences']:,}", f"{a['agreement_every_piece']:.2%}", f"{a['agreement']:.2%}")
    return table


def _unreachable_table(pieces: dict):
    """Each Korean piece the student's tokenizer never produces, and why (the report holds the first 200)."""
    from rich.table import Table
    from rich.text import Text

    if not pieces.get("unreachable_pieces"):
        return None
    table = Table(title=f"Korean pieces left unreachable: {pieces['unreachable']:,}")
    table.add_column("piece")
    table.add_column("why")
    for piece, why in pieces["unreachable_pieces"].items():
        table.add_row(Text(piece), Text(why))
    return table


def _named(model: dict) -> str:
    """``id@revision`` with the revision cut to 12 digits (the report holds it whole)."""
    revision = model["revision"]
    return f"{model['id']}@{revision[:19] if revision.startswith('sha256:') else revision[:12]}"


def _fit_table(i: dict):
    from rich.table import Table

    h = i["heldout"]
    fit = Table(title=f"held-out fit: centred cosine on {h['heldout_pieces']} {h['heldout_from']} "
                      f"(fitted on {h['fitted_pieces']}, seed {h['seed']}); ridge alpha {h['ridge_alpha']:g}")
    fit.add_column("method")
    fit.add_column("centred cosine", justify="right")
    fit.add_column("R²", justify="right")
    for method, score in h["centred_cosine"].items():
        tags = [t for t, on in (("used", method == i["method"]), ("best", method == h["best"])) if on]
        fit.add_row(method + (f"  ({', '.join(tags)})" if tags else ""), f"{score:.4f}", f"{h['r2'][method]:.4f}")
    return fit
