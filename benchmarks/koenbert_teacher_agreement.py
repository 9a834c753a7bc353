"""Step 1's teacher-side agreement on a klue/bert-base-sized stand-in (docs/koenbert-segmentation.md).

klue/bert-base cannot be downloaded offline, so a cased 32,000-piece Korean WordPiece is trained from
the shared Korean training text (no validation text; ~3 s), tiny BERTs are built around it and around
all-MiniLM-L6-v2's vocabulary (bert-base-uncased's), and `bench koenbert extend` runs on them.

Then, on request, what the weighed vocabulary's choices do (harness/koenbert/weighing.py):
- ``--leave-one-out``: the pieces weighed on all but one Korean training source, in turn; how the Korean teacher
  reads the source left out (what the target does on text the weighing has not seen);
- ``--targets 0.992,0.994``: every task's agreement with the pieces weighed to other targets (validation text:
  a comparison of the margin, not a choice made on it);
- ``--bound TASK``: how far any choice of English pieces could take a Korean task: its agreement with no
  English piece, and with every piece left out that re-cuts a word of its validation text (chosen on that
  text: a bound, not a policy), with what that costs every other task;
- ``--case-aware``: the Korean teacher reading each student piece in the case the text writes it (``##d`` in
  ``youngtomorrow`` as its own ``##d``, not the ``##D`` the collision gave the text): how much of the shortfall is
  the collisions' id choice rather than a different cut;
- ``--cased-variants``: the cased alternative to case-folding: the Korean vocabulary as it is (cased, as
  klue/bert-base reads Korean) and each English piece added as English text writes it (``the``, ``The``,
  ``THE``), weighed as step 1 weighs; its agreement and its vocabulary size.

    PYTHONPATH=. python benchmarks/koenbert_teacher_agreement.py [--out DIR] [--leave-one-out] [--targets T,...] [--bound klue/sts] [--case-aware] [--cased-variants]
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
    parser.add_argument("--targets", default="", help="other weighing targets to compare, e.g. 0.992,0.994")
    parser.add_argument("--bound", default=None, help="a Korean task (e.g. klue/sts): how far any choice of English pieces could take it")
    parser.add_argument("--case-aware", action="store_true", help="the Korean teacher reading each piece in the text's case")
    parser.add_argument("--cased-variants", action="store_true", help="the cased student with English pieces in three cases")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="koenbert-agreement-"))
    ko = tiny.train_korean_wordpiece(korean_sentences(SHARED_DATA, training_only=True), root / "ko-32k", 32_000)
    ko_bert = tiny.tiny_bert(ko, root / "tiny-ko-32k")
    en_bert = tiny.tiny_bert(tiny.minilm_dir(), root / "tiny-en")
    result = CliRunner().invoke(app, ["koenbert", "extend", "--ko", str(ko_bert), "--en", str(en_bert),
                                      "--out", str(root / "extended"), "--force", "--data-dir", str(SHARED_DATA)])
    print(result.output)
    if result.exit_code == 0 and (args.leave_one_out or args.targets or args.bound or args.case_aware
                                   or args.cased_variants):
        stand = StandIn(root / "extended", ko_bert, en_bert)
        if args.leave_one_out:
            print(json.dumps({"leave one Korean training source out": stand.leave_one_out()}, indent=1))
        if args.targets:
            print(json.dumps({"other targets": stand.targets([float(t) for t in args.targets.split(",")])}, indent=1))
        if args.bound:
            print(json.dumps({"bound": stand.bound(args.bound)}, indent=1))
        if args.case_aware:
            print(json.dumps({"case-aware reading": stand.case_aware()}, indent=1))
        if args.cased_variants:
            print(json.dumps({"cased variants": stand.cased_variants()}, indent=1))
    raise SystemExit(result.exit_code)


class StandIn:
    """The two teachers, the student step 1 made of them, and every task's validation text."""

    def __init__(self, extended: Path, ko_bert: Path, en_bert: Path):
        from transformers import AutoTokenizer

        from harness.koenbert import segmentation as S
        from harness.koenbert import vocab as V
        from harness.koenbert import weighing

        self.ko, self.en = (V.wordpiece_json(AutoTokenizer.from_pretrained(p), str(p)) for p in (ko_bert, en_bert))
        student = json.loads((extended / "tokenizer.json").read_text(encoding="utf-8"))
        self.first = V.with_pieces(self.ko, [])[1]
        vocab = student["model"]["vocab"]
        self.korean = {**student, "model": {**student["model"], "vocab": {p: i for p, i in vocab.items() if i < self.first}}}
        self.kept = sorted((p for p, i in vocab.items() if i >= self.first), key=vocab.get)
        self.candidates = V.candidate_pieces(self.korean, self.en)[1]
        self.training, _ = weighing.reference_text(SHARED_DATA)
        self.texts = S.validation_texts(SHARED_DATA)

    def agreement(self, pieces: list[str], tasks=None, texts=None, korean: dict = None) -> dict:
        """Token agreement of each task's teacher (or of the Korean teacher on ``texts``) with ``pieces`` added to
        ``korean`` (the student's Korean half step 1 made, unless another is given)."""
        from harness.koenbert import segmentation as S
        from harness.koenbert import vocab as V
        from harness.koenbert.corpus import reading_table

        spec = V.with_pieces(korean or self.korean, pieces)[0]
        texts = texts or {t: self.texts[t] for t in (tasks or self.texts)}
        teachers = {"ko": self.ko, "en": self.en}
        tables = {lang: reading_table(spec, teachers[lang]) for lang in {lang for lang, _ in texts.values()}}
        return {name: S.teacher_reads_own(spec, teachers[lang], tables[lang], lines).as_dict()["token_agreement"]
                for name, (lang, lines) in texts.items()}

    def leave_one_out(self) -> dict:
        """Per Korean training source: its agreement with every piece, and with the pieces weighed on the others (the
        student's Korean half as step 1 made it on all of them)."""
        from harness.koenbert import weighing

        out = {}
        for held, lines in self.training.korean.items():
            seen = weighing.ReferenceText({n: v for n, v in self.training.korean.items() if n != held}, self.training.english)
            keep, evidence = weighing.weigh(self.korean, self.ko, self.en, self.candidates, seen)
            every, weighed = (self.agreement(p, texts={held: ("ko", lines)})[held] for p in (self.candidates, keep))
            out[held] = {"every piece": every, "weighed on the others": weighed, "left out": evidence["left_out"],
                         "the others reached": {n: a["agreement"] for n, a in evidence["korean_sources"].items()}}
        return out

    def targets(self, targets: list[float]) -> dict:
        from harness.koenbert import weighing

        out = {}
        for target in targets:
            keep, evidence = weighing.weigh(self.korean, self.ko, self.en, self.candidates, self.training, target)
            out[f"{target:g}"] = {"left out": evidence["left_out"], "agreement": self.agreement(keep)}
        return out

    def bound(self, task: str) -> dict:
        """``task``'s agreement with no English piece, and with every English piece left out that is the first added
        piece on the student's cut of a word of its validation text (again until none is), with every task's then."""
        from harness.koenbert import vocab as V
        from harness.koenbert import weighing

        words = weighing.Side({task: self.texts[task][1]}, self.ko)
        keep, left_out = list(self.kept), []
        while True:
            culprits = set()
            for _, ids, same in words.reads(V.with_pieces(self.korean, keep)[0], self.ko, list(range(len(words.words)))):
                added = [j for j in ids if j >= self.first]
                if not same and added:
                    culprits.add(keep[added[0] - self.first])
            if not culprits:
                break
            left_out += sorted(culprits)
            keep = [p for p in keep if p not in culprits]
        return {"task": task, "no English piece": self.agreement([], [task])[task], "left out too": len(left_out),
                "left out too, e.g.": left_out[:20], "every task then": self.agreement(keep)}

    def case_aware(self) -> dict:
        """Each Korean task's agreement when the Korean teacher reads a student piece as the piece of its own
        vocabulary the text writes at that place (the case kept; the ``##`` of a continuation), else through
        ``reading_table``: the most a reading that knows the text's case could recover with the same cut."""
        from harness.koenbert import segmentation as S
        from harness.koenbert import vocab as V
        from harness.koenbert.corpus import reading_table

        student = V.with_pieces(self.korean, self.kept)[0]
        table, own_vocab = reading_table(student, self.ko), self.ko["model"]["vocab"]
        korean = {task: lines for task, (lang, lines) in self.texts.items() if lang == "ko"}
        by_table = self.agreement(self.kept, list(korean))
        out = {}
        for task, lines in korean.items():
            cut = V.backend(student).encode_batch(lines, add_special_tokens=False)
            own = V.backend(self.ko).encode_batch(lines, add_special_tokens=False)
            tokens = same = 0
            for text, s, t in zip(lines, cut, own):
                read = [own_vocab.get(("##" if p.startswith("##") else "") + text[a:b], int(table[i]))
                        for p, i, (a, b) in zip(s.tokens, s.ids, s.offsets)]
                words: dict = {}
                for piece, word in zip(read, s.word_ids):
                    words.setdefault(word, []).append(piece)
                mine = S._words(t, ids=True)
                tokens += len(t.ids)
                if len(words) == len(mine):
                    same += sum(len(m) for w, m in zip(sorted(words), mine) if words[w] == m)
            out[task] = {"by the table": by_table[task], "case-aware": round(same / tokens, 4)}
        return out

    def cased_variants(self) -> dict:
        """The student left cased (the Korean teacher's vocabulary and normaliser as they are: no piece unreachable)
        with each English piece added in the cases English text writes it, lower, Capitalised (word-initial pieces)
        and UPPER; the uncased English teacher reads each as its lower-case piece (``corpus.piece_table``)."""
        from harness.koenbert import vocab as V
        from harness.koenbert import weighing

        shared, missing = V.candidate_pieces(self.ko, self.en)
        present, candidates = set(self.ko["model"]["vocab"]), []
        for piece in sorted(shared + missing, key=self.en["model"]["vocab"].get):  # English id order
            for variant in case_variants(piece):
                if variant not in present:
                    present.add(variant)
                    candidates.append(variant)
        keep, evidence = weighing.weigh(self.ko, self.ko, self.en, candidates, self.training)
        return {"korean pieces": len(self.ko["model"]["vocab"]), "candidates": len(candidates), "added": len(keep),
                "left out": evidence["left_out"], "korean training text": {n: a["agreement"] for n, a in evidence["korean_sources"].items()},
                "every variant": self.agreement(candidates, korean=self.ko), "weighed": self.agreement(keep, korean=self.ko),
                "the recipe's student, for comparison": {"appended (English pieces and accented letters)": len(self.kept),
                                                        "agreement": self.agreement(self.kept)}}


def case_variants(piece: str) -> list[str]:
    """``the`` -> the, The, THE; ``##ing`` -> ##ing, ##ING (a continuation piece is never capitalised)."""
    prefix = "##" if piece.startswith("##") and len(piece) > 2 else ""
    body = piece[len(prefix):]
    forms = [piece, prefix + body.upper()] if prefix else [piece, body[:1].upper() + body[1:], body.upper()]
    return list(dict.fromkeys(forms))


if __name__ == "__main__":
    main()
