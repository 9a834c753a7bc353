"""KLUE-NER alignment: character tags -> subword labels -> character tags, on real dev sentences."""

import json
import re

import pytest
from transformers import AutoTokenizer

from harness.demo import SAMPLES_DIR
from harness.run import features
from harness.tasks import data, heads, metrics, spec
from harness.testing import tiny

NER = spec.load_tasks(["klue/ner"])[0]
LABELS = NER.dataset.labels
INDEX = {name: i for i, name in enumerate(LABELS)}


def ner_dev(shared_data, limit=None):
    """(characters, tag ids) per sentence of the official dev file, read independently of harness.tasks.data."""
    sentences, current = [], []
    for line in (shared_data / "klue/ner/klue-ner-v1.1_dev.tsv").read_text(encoding="utf-8").split("\n"):
        if line.startswith("##"):
            continue
        if not line:
            if current:
                sentences.append(current)
                current = []
            continue
        char, tag = line.split("\t")
        current.append((char, INDEX[tag]))
    return sentences[:limit]


def round_trip(tokenizer, sentences):
    texts = ["".join(c for c, _ in s) for s in sentences]
    enc = tokenizer(texts, truncation=True, max_length=510, return_offsets_mapping=True)
    gold, back = [], []
    for s, offsets in zip(sentences, enc["offset_mapping"]):
        tags = [t for _, t in s]
        labels = heads.subword_labels(tags, offsets)
        as_predictions = [label if label >= 0 else INDEX["O"] for label in labels]
        result = heads.chars_from_subwords(as_predictions, offsets, len(tags), LABELS)
        scored = heads.scored_positions([c for c, _ in s])  # spaces are not scored, as in KLUE-baseline
        back.append([result[i] for i in scored])
        gold.append([tags[i] for i in scored])
    return gold, back


@pytest.fixture(scope="module")
def char_tokenizer(tmp_path_factory, shared_data):
    """A character-level Korean WordPiece (every syllable its own piece), as syllable tokenizers split."""
    texts = [re.sub(r"<([^:<>]+):[A-Z]{2}>", r"\1", line.split("\t", 1)[1])
             for line in (shared_data / "klue/ner/klue-ner-v1.1_dev.tsv").read_text(encoding="utf-8").splitlines()
             if line.startswith("## klue-ner")]
    return AutoTokenizer.from_pretrained(
        tiny.train_korean_wordpiece(texts, tmp_path_factory.mktemp("char-wp"), vocab_size=10, limit_alphabet=100_000)
    )


def test_round_trip_is_lossless_on_every_dev_sentence(shared_data, char_tokenizer):
    sentences = ner_dev(shared_data)
    assert len(sentences) == 5000
    gold, back = round_trip(char_tokenizer, sentences)
    assert back == gold
    assert metrics.entity_f1(back, gold, labels=LABELS) == 100.0
    assert metrics.char_f1(back, gold, labels=LABELS) == 100.0


def test_round_trip_with_word_pieces_loses_only_pieces_that_cross_an_entity_edge(shared_data, korean_tokenizer_dir):
    """A piece such as '경찰은' (경찰 = organisation, 은 = particle) holds one label; KLUE-baseline has the same limit."""
    tokenizer = AutoTokenizer.from_pretrained(korean_tokenizer_dir)
    sentences = ner_dev(shared_data, 1000)
    gold, back = round_trip(tokenizer, sentences)
    texts = ["".join(c for c, _ in s) for s in sentences]
    enc = tokenizer(texts, truncation=True, max_length=510, return_offsets_mapping=True)
    for sentence, tags, result, offsets in zip(sentences, gold, back, enc["offset_mapping"]):
        char_tags = [LABELS[t] for _, t in sentence]
        crosses = any(
            any(char_tags[c].startswith("B-") or char_tags[c][2:] != char_tags[start][2:] for c in range(start + 1, end))
            for start, end in offsets if end - start > 1
        )
        if not crosses:
            assert result == tags
    f1 = metrics.entity_f1(back, gold, labels=LABELS)
    assert 60.0 < f1 < 100.0


def test_spaces_and_truncated_characters_become_O():
    offsets = [(0, 0), (0, 2), (3, 4), (0, 0)]  # [CLS] "ab" "d" [SEP] over "ab d" + a truncated 5th char
    preds = [INDEX["O"], INDEX["B-PS"], INDEX["B-LC"], INDEX["O"]]
    tags = heads.chars_from_subwords(preds, offsets, 5, LABELS)
    assert [LABELS[t] for t in tags] == ["B-PS", "I-PS", "O", "B-LC", "O"]


def test_the_cache_key_ignores_the_tokenizers_truncation_state(english_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    before = features.tokenizer_identity(tokenizer)
    tokenizer(["a short sentence"], truncation=True, max_length=4)  # what the task that ran before leaves behind
    assert json.loads(tokenizer.backend_tokenizer.to_str())["truncation"] is not None  # the state a raw hash would see
    assert features.tokenizer_identity(tokenizer) == before
    other = AutoTokenizer.from_pretrained(english_model_dir)
    other.add_tokens(["koenbench-new-piece"])
    assert features.tokenizer_identity(other) != before


def test_a_damaged_feature_cache_is_named_and_built_again(tmp_path, english_model_dir, monkeypatch, capsys):
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path))
    sst2 = spec.load_tasks(["glue/sst2"])[0]
    loaded = data.load(sst2, SAMPLES_DIR)
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    expected = list(features.tokenize(loaded.dataset, tokenizer, sst2.head, 64, sst2.sha256, loaded.fingerprint)["train"]["input_ids"])
    (cache,) = tmp_path.rglob("train-*.arrow")
    cache.write_bytes(cache.read_bytes()[:200])  # cut short, as by a killed process or a full disk
    again = features.tokenize(loaded.dataset, tokenizer, sst2.head, 64, sst2.sha256, loaded.fingerprint)
    err = capsys.readouterr().err
    assert f"features cache {cache}" in err and "building it again" in err
    assert list(again["train"]["input_ids"]) == expected
    reused = features.tokenize(loaded.dataset, tokenizer, sst2.head, 64, sst2.sha256, loaded.fingerprint)
    assert "building it again" not in capsys.readouterr().err and list(reused["train"]["input_ids"]) == expected


def test_the_cache_lives_in_the_users_cache_folder_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv("KOENBENCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert features.cache_root() == tmp_path / ".cache" / "koenbench" / "features"
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path / "elsewhere"))
    assert features.cache_root() == tmp_path / "elsewhere" / "features"


def test_the_cache_key_changes_with_each_thing_the_features_depend_on(english_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    base = dict(head="sequence-classification", max_length=64, spec_sha256="spec-a", data_fingerprint="data-a")
    key = features.cache_key(tokenizer, **base)
    assert re.fullmatch(r"[0-9a-f]{20}", key) and features.cache_key(tokenizer, **base) == key
    changed = [dict(base, head="regression"), dict(base, max_length=128), dict(base, spec_sha256="spec-b"),
               dict(base, data_fingerprint="data-b")]
    keys = {features.cache_key(tokenizer, **c) for c in changed}
    assert len(keys) == 4 and key not in keys


def test_two_tokenizers_sharing_one_cache_each_get_their_own_ids(tmp_path, english_model_dir, korean_tokenizer_dir,
                                                                 monkeypatch):
    """Two models of different vocabularies on the same task, data and settings: each trains and is scored on
    its own tokenizer's ids, never on the features the other model's run left in the cache."""
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path))
    ynat = spec.load_tasks(["klue/ynat"])[0]
    loaded = data.load(ynat, SAMPLES_DIR, limit=16, eval_limit=16)
    texts = list(loaded.dataset["train"]["text_a"])
    for tokenizer_dir in (english_model_dir, korean_tokenizer_dir, english_model_dir):  # the first one again last
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        encoded = features.tokenize(loaded.dataset, tokenizer, ynat.head, 64, ynat.sha256, loaded.fingerprint)
        own = tokenizer(texts, truncation=True, max_length=64)["input_ids"]
        assert list(encoded["train"]["input_ids"]) == own, tokenizer_dir
    korean = AutoTokenizer.from_pretrained(korean_tokenizer_dir)(texts, truncation=True, max_length=64)["input_ids"]
    assert korean != own  # the two vocabularies cut the Korean headlines differently


def test_a_tokenizer_identity_is_its_content(english_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    identity = features.tokenizer_identity(tokenizer)
    assert re.fullmatch(r"[0-9a-f]{16}", identity)
    assert features.tokenizer_identity(AutoTokenizer.from_pretrained(english_model_dir)) == identity  # loaded again


@pytest.fixture
def datasets_progress_bars():
    """datasets' progress bars on for this test (another test or a run may have turned them off), then as they were."""
    import datasets

    was_on = datasets.is_progress_bar_enabled()
    datasets.enable_progress_bars()
    yield
    if not was_on:
        datasets.disable_progress_bars()


def test_tokenizing_again_reads_the_cache_and_names_a_stale_check(tmp_path, english_model_dir, monkeypatch, capsys,
                                                                  datasets_progress_bars):
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path))
    sst2 = spec.load_tasks(["glue/sst2"])[0]
    loaded = data.load(sst2, SAMPLES_DIR)
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    args = (loaded.dataset, tokenizer, sst2.head, 64, sst2.sha256, loaded.fingerprint)
    first = features.tokenize(*args)["train"]
    assert "tokenizing train" in capsys.readouterr().err  # the progress bar names what it tokenizes
    (cache,) = tmp_path.rglob("train-*.arrow")
    check = json.loads(cache.with_suffix(".check.json").read_text(encoding="utf-8"))
    assert check["rows"] == first.num_rows and check["bytes"] == cache.stat().st_size and len(check["sha256"]) == 64
    again = features.tokenize(*args)["train"]
    err = capsys.readouterr().err
    assert [f["filename"] for f in again.cache_files] == [str(cache)] and "building it again" not in err
    assert "tokenizing" not in err  # read from the cache, not tokenized again
    cache.with_suffix(".check.json").write_text(json.dumps({**check, "rows": check["rows"] + 1}), encoding="utf-8")
    rebuilt = features.tokenize(*args)["train"]
    err = capsys.readouterr().err
    assert f"features cache {cache}: its size, hash or row count differs from when it was written; building it again" in err
    assert list(rebuilt["input_ids"]) == list(first["input_ids"])


class _PlainVocab:
    """A tokenizer without a `tokenizers` backend: all it shows is its vocabulary."""

    def __init__(self, vocab):
        self.vocab = vocab

    def get_vocab(self):
        return dict(self.vocab)


class _OtherPlainVocab(_PlainVocab):
    pass


def test_a_tokenizer_is_known_by_its_normaliser_or_without_a_backend_by_its_vocabulary_and_class(english_model_dir):
    cased = AutoTokenizer.from_pretrained(english_model_dir, do_lower_case=False)  # the same vocabulary, not lowercased
    assert features.tokenizer_identity(cased) != features.tokenizer_identity(AutoTokenizer.from_pretrained(english_model_dir))
    plain = features.tokenizer_identity(_PlainVocab({"[UNK]": 0, "a": 1}))
    assert re.fullmatch(r"[0-9a-f]{16}", plain) and plain == features.tokenizer_identity(_PlainVocab({"[UNK]": 0, "a": 1}))
    assert plain != features.tokenizer_identity(_PlainVocab({"[UNK]": 0, "b": 1}))
    assert plain != features.tokenizer_identity(_OtherPlainVocab({"[UNK]": 0, "a": 1}))


def test_bumping_the_features_version_changes_the_code_version(monkeypatch):
    before = features.code_version()
    monkeypatch.setattr(features, "FEATURES_VERSION", features.FEATURES_VERSION + 1)
    assert features.code_version() != before


def test_a_cache_changed_in_place_or_missing_its_check_is_named_in_yellow_and_built_again(tmp_path, english_model_dir,
                                                                                          monkeypatch, capsys):
    monkeypatch.setenv("KOENBENCH_CACHE", str(tmp_path))
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich colours the warning as on a terminal
    sst2 = spec.load_tasks(["glue/sst2"])[0]
    loaded = data.load(sst2, SAMPLES_DIR)
    tokenizer = AutoTokenizer.from_pretrained(english_model_dir)
    args = (loaded.dataset, tokenizer, sst2.head, 64, sst2.sha256, loaded.fingerprint)
    expected = list(features.tokenize(*args)["train"]["input_ids"])
    (cache,) = tmp_path.rglob("train-*.arrow")
    body = bytearray(cache.read_bytes())
    body[len(body) // 2] ^= 0xFF  # one byte flipped, the size unchanged: only the hash can tell
    cache.write_bytes(bytes(body))
    capsys.readouterr()
    assert list(features.tokenize(*args)["train"]["input_ids"]) == expected
    err = capsys.readouterr().err
    assert "its size, hash or row count differs from when it was written; building it again" in err
    assert "\x1b[33m" in err  # yellow
    cache.with_suffix(".check.json").unlink()
    assert list(features.tokenize(*args)["train"]["input_ids"]) == expected
    assert "unreadable (FileNotFoundError: " in capsys.readouterr().err
