"""`bench koenbert extend`: a Korean BERT that also holds an English BERT's WordPiece pieces.

Reads top to bottom: check the inputs, grow the vocabulary (vocab.py), measure the case
handling, score every init method on held-out shared pieces and initialise the new rows
(init.py), grow the Korean MLM model, save it with its tokenizer and the report.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from harness.koenbert import init as initmod
from harness.koenbert import vocab as vocabmod
from harness.koenbert.init import DEFAULT_INIT, METHODS
from harness.koenbert.vocab import DEFAULT_POLICY, POLICIES, ExtendError
from harness.paths import SHARED_DATA

REPORT_NAME = "koenbert_extend_report.json"
SCHEMA = "koenbench.koenbert-extend/1"
EXCLUDED_SHOWN = 200  # excluded pieces listed in the report (the count is always complete)

CASE_WHY = ("keep the Korean normalizer (cased, accents kept) and add bert-base-uncased's lowercase pieces as "
            "they are: a lowercasing normalizer changes every Korean sentence with a capital Latin letter, and "
            "lowercasing only English words needs a custom pre-tokenizer that tokenizer.json cannot hold; the "
            "price is paid on capitalised English words (cased_english_split_agreement)")


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
    data_dir: Optional[Path] = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """Write the extended model (tokenizer, weights with MLM head, report) to `out`; return the report."""
    started = time.time()
    out = Path(out)
    data_dir = Path(data_dir or SHARED_DATA)

    # --- check what can be checked before loading anything: all problems at once ---
    problems = []
    if init not in METHODS:
        problems.append(f"--init {init!r} is unknown; choose one of {', '.join(METHODS)}")
    if policy not in POLICIES:
        problems.append(f"--vocab {policy!r} is unknown; choose one of {', '.join(POLICIES)}")
    if not 0.0 < heldout_fraction < 1.0:
        problems.append(f"--heldout-fraction {heldout_fraction} must be between 0 and 1 (0.1 holds out 10%)")
    if out.exists() and not force:
        problems.append(f"--out {out} exists; pass --force to replace it, or choose another directory")
    elif out.exists() and not _replaceable(out):
        problems.append(f"--out {out} is not an earlier extend output (no {REPORT_NAME} in it); "
                        "--force only replaces those: remove it yourself or choose another directory")
    missing = vocabmod.data_files_missing(data_dir)
    if missing and policy == "korean-safe":
        problems.append(f"--data-dir {data_dir}: {', '.join(missing)} not found; --vocab korean-safe needs the Korean "
                        "reference text: point --data-dir or KOENBENCH_SHARED_DATA at the shared data folder")
    if problems:
        raise ExtendError(problems[0] if len(problems) == 1 else "\n  - ".join(["fix these options:", *problems]))

    # --- tokenizers and models ---
    log("loading tokenizers")
    ko_tok = _load(ko, "ko", "tokenizer")
    en_tok = _load(en, "en", "tokenizer")
    ko_spec = vocabmod.wordpiece_json(ko_tok, f"--ko {ko}")
    en_spec = vocabmod.wordpiece_json(en_tok, f"--en {en}")
    log("loading models")
    ko_model, head_missing = _load(ko, "ko", "mlm")
    en_model, _ = _load(en, "en", "base")
    ko_table = _embeddings(ko_model, f"--ko {ko}", len(ko_spec["model"]["vocab"]))
    en_table = _embeddings(en_model, f"--en {en}", len(en_spec["model"]["vocab"]))

    # --- vocabulary ---
    # the measurements need the shared data's Korean and English text; without it the model is built all the same
    measured = not missing
    reference = None
    if measured:
        log("reading and tokenizing the Korean reference text")
        reference = vocabmod.KoreanReference(ko_spec, vocabmod.korean_sentences(data_dir))
    else:
        log(f"{data_dir}: {', '.join(missing)} not found; the report's tokenization measurements are skipped")
    log(f"extending the vocabulary ({policy})")
    ext = vocabmod.extend_vocab(ko_spec, en_spec, policy, reference)

    options, sst2_if_all, measured_on = {}, None, None
    if measured:
        log("measuring case handling on SST-2 train and cased English")
        sst2, cased = vocabmod.sst2_words(data_dir), vocabmod.cased_english_words(data_dir)
        options = vocabmod.case_options(en_spec, ext.spec, sst2, cased, reference, ext.check.get("sentences_changed", 0))
        all_spec = vocabmod.with_pieces(ko_spec, ext.candidates)[0]
        sst2_if_all = round(vocabmod.split_agreement(en_spec, all_spec, sst2), 4) if ext.excluded else None
        measured_on = {"sst2_train_words": sum(sst2.values()), "cased_english_words": sum(cased.values()),
                       "korean_sentences": len(reference.sentences)}

    # --- embeddings ---
    en_vocab, ko_vocab = en_spec["model"]["vocab"], ko_spec["model"]["vocab"]
    src = en_table[[en_vocab[p] for p in ext.shared]]
    tgt = ko_table[[ko_vocab[p] for p in ext.shared]]
    korean = initmod.KoreanSide(ko_table, ko_vocab, seed=seed)
    log(f"fitting every init method on {len(ext.shared):,} shared pieces, {heldout_fraction:.0%} held out")
    try:
        heldout = initmod.heldout_cosine(src, tgt, ext.shared, korean, heldout_fraction, seed)
    except ValueError as e:
        raise ExtendError(f"--ko {ko} and --en {en}: {e}") from None
    rows = initmod.new_rows(init, src, tgt, en_table[[en_vocab[p] for p in ext.added]], ext.added, korean)
    log(f"growing the Korean model to {ext.size:,} pieces ({init})")
    mlm_bias = _grow(ko_model, ext.first_new_id, rows)

    report = {
        "schema": SCHEMA,
        "korean": {"model": str(ko), "pieces": ext.korean_size, "hidden_size": int(ko_table.shape[1])},
        "english": {"model": str(en), "pieces": ext.english_size, "hidden_size": int(en_table.shape[1])},
        "vocab": {
            "policy": policy,
            "shared": len(ext.shared),
            "english_missing": len(ext.candidates),
            "added": len(ext.added),
            "excluded": len(ext.excluded),
            "final_size": ext.size,
            "first_new_id": ext.first_new_id,
            "korean_check": ext.check,
            "sst2_split_agreement_if_all_added": sst2_if_all,
            "excluded_pieces": ext.excluded[:EXCLUDED_SHOWN],
        },
        "case_handling": {
            "choice": "cased",
            "why": CASE_WHY,
            "sst2_split_agreement": options["cased"]["sst2_split_agreement"] if measured else None,
            "options": options,
            "measured_on": measured_on or f"not measured: {data_dir} lacks {', '.join(missing)}",
        },
        "init": {"method": init, "default": DEFAULT_INIT, "heldout": heldout, "mlm_bias_new": mlm_bias},
        "output": {"dir": str(out), "vocab_size": ext.size,
                   "mlm_head": "newly initialised: not in the Korean checkpoint" if head_missing else "from the Korean checkpoint"},
    }

    # --- save: into a temporary sibling, checked, then moved into place ---
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _save(ko_tok, ext, ko_model, tmp)
        report["wall_s"] = round(time.time() - started, 1)
        (tmp / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {out}")
    return report


# --- steps ------------------------------------------------------------------------------


def _replaceable(out: Path) -> bool:
    return out.is_dir() and (not any(out.iterdir()) or (out / REPORT_NAME).exists())


def _load(name: Union[str, Path], role: str, what: str):
    """A tokenizer, MLM model or base model from a local directory or the hub, or ExtendError."""
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    name = str(name)
    local = Path(name).expanduser()
    source = str(local) if local.exists() else name
    if local.exists() and not local.is_dir():
        raise ExtendError(f"--{role} {name} is a file; pass the model's directory (config.json, tokenizer, weights)")
    try:
        if what == "tokenizer":
            return AutoTokenizer.from_pretrained(source)
        cls = AutoModelForMaskedLM if what == "mlm" else AutoModel
        model, info = cls.from_pretrained(source, output_loading_info=True)
    except (OSError, ValueError, KeyError) as e:
        if local.exists():
            raise ExtendError(f"--{role} {name}: cannot load the {what} from this directory: {e}") from None
        raise ExtendError(
            f"--{role} {name}: no local directory of that name, and the Hugging Face hub could not provide it "
            f"({str(e).splitlines()[0]}). Without hub access, download it where the hub is reachable "
            f"(huggingface-cli download {name} --local-dir DIR) and pass --{role} DIR") from None
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
    """The report as rich tables: vocabulary, case handling, held-out fit of every method."""
    from rich.console import Group
    from rich.table import Table

    v, c, i = report["vocab"], report["case_handling"], report["init"]
    vocab = Table(title=f"koenbert extend -> {report['output']['dir']}", show_header=False)
    vocab.add_row("Korean pieces", f"{report['korean']['pieces']:,}  (hidden {report['korean']['hidden_size']})")
    vocab.add_row("English pieces", f"{report['english']['pieces']:,}  (hidden {report['english']['hidden_size']})")
    vocab.add_row("shared pieces", f"{v['shared']:,}")
    vocab.add_row("English pieces missing", f"{v['english_missing']:,}")
    vocab.add_row("added pieces", f"{v['added']:,}  (policy {v['policy']}; {v['excluded']:,} left out)")
    vocab.add_row("final vocab size", f"{v['final_size']:,}")
    check = v["korean_check"]
    if not check:  # no reference text was at hand
        vocab.add_row("Korean sentences changed", "not measured")
        vocab.add_row("case handling", f"{c['choice']} ({c['measured_on']})")
        return Group(vocab, _fit_table(i))
    vocab.add_row("Korean sentences changed", f"{check.get('sentences_changed', 0):,} of "
                  f"{check.get('reference_sentences', 0):,}  (adding all: {check.get('sentences_changed_if_all_added', 0):,})")
    vocab.add_row("case handling", f"{c['choice']}: SST-2 split agreement {c['sst2_split_agreement']:.2%}")

    case = Table(title="case handling (share of words split as the English tokenizer does)")
    for col in ("option", "SST-2 train", "cased English", "Korean sentences changed"):
        case.add_column(col, justify="left" if col == "option" else "right")
    for name, o in c["options"].items():
        mark = " (chosen)" if name == c["choice"] else ""
        case.add_row(name + mark, f"{o['sst2_split_agreement']:.2%}", f"{o['cased_english_split_agreement']:.2%}",
                     f"{o.get('korean_sentences_changed', '-'):,}")
    if v.get("sst2_split_agreement_if_all_added") is not None:
        case.caption = f"adding every missing piece instead: SST-2 {v['sst2_split_agreement_if_all_added']:.2%}"

    return Group(vocab, case, _fit_table(i))


def _fit_table(i: dict):
    from rich.table import Table

    h = i["heldout"]
    fit = Table(title=f"held-out fit: mean cosine on {h['heldout_pieces']} of "
                      f"{h['heldout_pieces'] + h['fitted_pieces']} shared pieces (seed {h['seed']})")
    fit.add_column("method")
    fit.add_column("mean cosine", justify="right")
    for method, score in h["mean_cosine"].items():
        tags = [t for t, on in (("used", method == i["method"]), ("default", method == i["default"]),
                                ("best", method == h["best"])) if on]
        fit.add_row(method + (f"  ({', '.join(tags)})" if tags else ""), f"{score:.4f}")
    return fit
