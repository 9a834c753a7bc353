"""Regenerate samples/: the first rows of each real KLUE/GLUE file of ../shared/data, same layout and format.

Run from the repository root: python samples/make_samples.py [SHARED_DATA]
The demo trains on these with the task YAMLs' `local` files (bench demo / bench run --data-dir samples).
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN_ROWS, DEV_ROWS, CARVED_ROWS = 240, 120, 300  # carved: one file gives 80% train, 20% validation

LINE_FILES = {  # header lines kept + data rows
    "klue/ynat/ynat_train.tsv": (1, TRAIN_ROWS),
    "klue/ynat/ynat_test.tsv": (0, DEV_ROWS),
    "klue/sts/klue_sts_train.csv": (1, TRAIN_ROWS),
    "glue/MRPC/train.tsv": (1, TRAIN_ROWS),
    "glue/MRPC/dev.tsv": (1, DEV_ROWS),
    "glue/STS-B/train.tsv": (1, TRAIN_ROWS),
    "glue/STS-B/dev.tsv": (1, DEV_ROWS),
    "glue/SST-2/train.tsv": (1, TRAIN_ROWS),
    "glue/SST-2/dev.tsv": (1, DEV_ROWS),
    "glue/QNLI/dev.tsv": (1, CARVED_ROWS),
}
JSON_FILES = {"klue/sts/klue-sts-v1.1_dev.json": DEV_ROWS, "klue/nli/klue-nli-v1.1_dev.json": CARVED_ROWS}
NER_FILE, NER_SENTENCES = "klue/ner/klue-ner-v1.1_dev.tsv", CARVED_ROWS


def main(shared: Path) -> None:
    for name, (header, rows) in LINE_FILES.items():
        # none of these files has a line break inside a field, so lines are rows
        lines = (shared / name).read_text(encoding="utf-8").splitlines(keepends=True)
        write(name, "".join(lines[: header + rows]))
    for name, rows in JSON_FILES.items():
        items = json.loads((shared / name).read_text(encoding="utf-8"))[:rows]
        write(name, json.dumps(items, ensure_ascii=False, indent=1) + "\n")
    text = (shared / NER_FILE).read_text(encoding="utf-8")
    comments = [line for line in text.splitlines()[:5] if line.startswith("## ")]
    blocks = [b for b in text.split("\n\n") if b.strip()][:NER_SENTENCES]
    blocks[0] = "\n".join(line for line in blocks[0].split("\n") if line not in comments)
    write(NER_FILE, "\n".join(comments) + "\n" + "\n\n".join(b.strip("\n") for b in blocks) + "\n")


def write(name: str, content: str) -> None:
    out = HERE / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(content, encoding="utf-8")
    print(f"{out.relative_to(HERE)}: {len(content.encode())} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "shared" / "data")
