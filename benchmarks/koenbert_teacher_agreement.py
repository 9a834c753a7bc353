"""Step 1's teacher-side agreement on a klue/bert-base-sized stand-in (docs/koenbert-segmentation.md).

klue/bert-base cannot be downloaded offline, so a cased 32,000-piece Korean WordPiece is trained from
the shared Korean training text (no validation text; ~3 s), tiny BERTs are built around it and around
all-MiniLM-L6-v2's vocabulary (bert-base-uncased's), and `bench koenbert extend` runs on them.

    python benchmarks/koenbert_teacher_agreement.py [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.core.paths import SHARED_DATA
from harness.koenbert.vocab import korean_sentences
from harness.testing import tiny


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where the stand-ins and the extended model go")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="koenbert-agreement-"))
    ko = tiny.train_korean_wordpiece(korean_sentences(SHARED_DATA, training_only=True), root / "ko-32k", 32_000)
    ko_bert = tiny.tiny_bert(ko, root / "tiny-ko-32k")
    en_bert = tiny.tiny_bert(tiny.minilm_dir(), root / "tiny-en")
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", str(ko_bert), "--en", str(en_bert),
                                      "--out", str(root / "extended"), "--force", "--data-dir", str(SHARED_DATA)])
    print(result.output)
    raise SystemExit(result.exit_code)


if __name__ == "__main__":
    main()
