"""Step 1's teacher-side agreement on a klue/bert-base-sized stand-in (docs/koenbert-segmentation.md).

klue/bert-base cannot be downloaded offline, so a cased 32,000-piece Korean WordPiece is trained from
the shared Korean training text (no validation text; ~3 s), tiny BERTs are built around it and around
all-MiniLM-L6-v2's vocabulary (bert-base-uncased's), and `bench koenbert extend` runs on them.

With ``--leave-one-out`` it weighs the pieces (harness/koenbert/weighing.py) on all but one Korean training source,
in turn, and reports how the Korean teacher reads the source left out: what the policy's target does on text it
has not seen. With ``--bound TASK`` it then measures how far any choice of English pieces could take TASK: the Korean
teacher's agreement with no English piece at all, and with every English piece left out that re-cuts a word
of TASK's validation text (chosen on that text: a bound, not a policy), with what the second costs GLUE.

    PYTHONPATH=. python benchmarks/koenbert_teacher_agreement.py [--out DIR] [--leave-one-out] [--bound klue/sts]
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--leave-one-out", action="store_true", help="weigh on all but one Korean training source, in turn")
    parser.add_argument("--bound", default=None, help="a Korean task (e.g. klue/sts): how far any choice of English pieces could take it")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="koenbert-agreement-"))
    ko = tiny.train_korean_wordpiece(korean_sentences(SHARED_DATA, training_only=True), root / "ko-32k", 32_000)
    ko_bert = tiny.tiny_bert(ko, root / "tiny-ko-32k")
    en_bert = tiny.tiny_bert(tiny.minilm_dir(), root / "tiny-en")
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", str(ko_bert), "--en", str(en_bert),
                                      "--out", str(root / "extended"), "--force", "--data-dir", str(SHARED_DATA)])
    print(result.output)
    if result.exit_code == 0 and args.leave_one_out:
        print(json.dumps(leave_one_out(ko_bert, en_bert), indent=1))
    if result.exit_code == 0 and args.bound:
        print(json.dumps(bound(root / "extended", ko_bert, en_bert, args.bound), indent=1))
    raise SystemExit(result.exit_code)


def leave_one_out(ko_bert: Path, en_bert: Path) -> dict:
    """Per Korean training source: the Korean teacher's agreement on it with every English piece, and with the pieces
    weighed on the other sources (and the agreement the weighing reached on those)."""
    from transformers import AutoTokenizer

    from harness.koenbert import segmentation as S
    from harness.koenbert import vocab as V
    from harness.koenbert import weighing
    from harness.koenbert.corpus import piece_table

    ko, en = (V.wordpiece_json(AutoTokenizer.from_pretrained(p), str(p)) for p in (ko_bert, en_bert))
    text, _ = weighing.reference_text(SHARED_DATA)
    out = {}
    for held in text.korean:
        seen = {name: lines for name, lines in text.korean.items() if name != held}
        # the student's Korean half as extend makes it, its collisions settled on the sources seen
        korean = S.uncased(S.casefold_vocab(ko, S.own_counts(ko, [t for lines in seen.values() for t in lines]))[0])
        candidates = V.candidate_pieces(korean, en)[1]
        keep, evidence = weighing.weigh(korean, ko, en, candidates, weighing.ReferenceText(seen, text.english))

        def reads(pieces: list[str]) -> float:
            spec = V.with_pieces(korean, pieces)[0]
            table = piece_table(spec["model"]["vocab"], ko["model"]["vocab"], V.fold)
            return S.teacher_reads_own(spec, ko, table, text.korean[held]).as_dict()["token_agreement"]

        out[held] = {"every piece": reads(candidates), "weighed on the others": reads(keep), "left out": evidence["left_out"],
                     "the others reached": {n: a["agreement"] for n, a in evidence["korean_sources"].items()}}
    return out


def bound(extended: Path, ko_bert: Path, en_bert: Path, task: str) -> dict:
    """The Korean teacher's agreement on ``task`` with no English piece, and with every English piece left out that is
    the first added piece on the student's cut of a word of ``task``'s validation text (repeated until none is),
    with every task's agreement then."""
    from transformers import AutoTokenizer

    from harness.koenbert import segmentation as S
    from harness.koenbert import weighing
    from harness.koenbert import vocab as V
    from harness.koenbert.corpus import piece_table

    ko, en = (V.wordpiece_json(AutoTokenizer.from_pretrained(p), str(p)) for p in (ko_bert, en_bert))
    student = json.loads((extended / "tokenizer.json").read_text(encoding="utf-8"))
    first = V.with_pieces(ko, [])[1]
    korean = {**student, "model": {**student["model"], "vocab": {p: i for p, i in student["model"]["vocab"].items() if i < first}}}
    keep = sorted((p for p, i in student["model"]["vocab"].items() if i >= first), key=student["model"]["vocab"].get)
    texts = S.validation_texts(SHARED_DATA)
    words = weighing.Side({task: texts[task][1]}, ko)

    def agreement(spec: dict, tasks) -> dict:
        return {t: S.teacher_reads_own(spec, teacher, piece_table(spec["model"]["vocab"], teacher["model"]["vocab"], V.fold),
                                       texts[t][1]).as_dict()["token_agreement"]
                for t in tasks for teacher in [ko if texts[t][0] == "ko" else en]}

    out = {"task": task, "no English piece": agreement(korean, [task])[task], "left out": []}
    while True:
        spec = V.with_pieces(korean, keep)[0]
        culprits = set()
        for _, ids, same in words.reads(spec, ko, list(range(len(words.words)))):
            added = [j for j in ids if j >= first]
            if not same and added:
                culprits.add(keep[added[0] - first])
        if not culprits:
            break
        out["left out"] += sorted(culprits)
        keep = [p for p in keep if p not in culprits]
    out["every task, those left out too"] = agreement(V.with_pieces(korean, keep)[0], list(texts))
    return out


if __name__ == "__main__":
    main()
