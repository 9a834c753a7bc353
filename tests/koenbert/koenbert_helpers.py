"""Builders shared by the koenbert tests: stand-ins for step 1's output, tiny BERTs, real text.

Test modules import it by name (pytest puts tests/koenbert on sys.path); the name is unique in tests/.
"""

import csv
import re

import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM, BertTokenizerFast


def union_tokenizer(ko_dir, en_dir, out):
    """A cased tokenizer whose vocabulary is the Korean one followed by every English piece it lacks:
    what step 1 makes, built here directly so these tests do not depend on step 1."""
    from tokenizers import BertWordPieceTokenizer

    ko = (ko_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    en = (en_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    known = set(ko)
    vocab = ko + [p for p in en if p not in known and not re.fullmatch(r"\[unused\d+\]", p)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("".join(p + "\n" for p in vocab), encoding="utf-8")
    wordpiece = BertWordPieceTokenizer(str(out / "vocab.txt"), lowercase=False, strip_accents=False)
    tokenizer = BertTokenizerFast(tokenizer_object=wordpiece._tokenizer, do_lower_case=False, strip_accents=False,
                                  unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
    tokenizer.save_pretrained(out)
    return out


def sst2_sentences(shared_data, n):
    with open(shared_data / "glue/SST-2/train.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r[0] for r in rows[1 : n + 1]]


def bert(tokenizer_dir, out, seed, init_range=0.02, dropout=0.1, hidden=32, layers=2, heads=4):
    """A random tiny BERT (MLM head included) saved with its tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=4 * hidden, max_position_embeddings=128, initializer_range=init_range,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def extended(ko_dir, union_dir, out, dropout=0.1):
    """The Korean model with the union vocabulary: its weights, its Korean embedding rows, random new
    rows; what step 1 makes (with a plainer init), built here so these tests do not depend on step 1."""
    ko = BertForMaskedLM.from_pretrained(ko_dir)
    c = ko.config
    bert(union_dir, out, seed=5, hidden=c.hidden_size, layers=c.num_hidden_layers, heads=c.num_attention_heads, dropout=dropout)
    student = BertForMaskedLM.from_pretrained(out)
    shared = {k: v for k, v in ko.state_dict().items() if "word_embeddings" not in k and "predictions" not in k}
    student.load_state_dict(shared, strict=False)
    with torch.no_grad():
        student.bert.embeddings.word_embeddings.weight[: c.vocab_size] = ko.bert.embeddings.word_embeddings.weight
    student.save_pretrained(out)
    return str(out)
