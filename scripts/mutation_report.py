"""Score and survivors from mutmut's own state (read in this process: `mutmut show` per mutant is slow).

`mutation_report.py OUT --pick SIZE SEED [PATTERN ...]` instead writes OUT/sample.txt: SIZE mutants drawn at
random (seeded) from each module matching the patterns, for scripts/mutation.sh --sample to check.
"""
import fnmatch
import random
import re
import sys
from collections import Counter
from pathlib import Path

from scipy.stats import binomtest

from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, status_by_exit_code, walk_mutatable_files

out = Path(sys.argv[1])
# Mutants judged equivalent (no test can tell them apart from the original), one per line: "name  # why".
# "CPU-only: ..." marks a mutant that differs only where a GPU is used (a device argument): left out like the
# others on a machine without one, and counted apart in the report
CPU_ONLY = "CPU-only:"
equivalent = {}
for line in (out / "equivalent.txt").read_text(encoding="utf-8").splitlines() if (out / "equivalent.txt").exists() else []:
    if line.strip() and not line.startswith("#"):
        name, _, why = line.partition("#")
        equivalent[name.strip()] = why.strip()

status, paths = {}, {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for name, code in data.exit_code_by_key.items():
        status[name], paths[name] = status_by_exit_code[code], path


def module_of(name: str) -> str:
    return re.sub(r"\.x.*", "", name)


if sys.argv[2:3] == ["--pick"]:
    size, seed, patterns = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] or ["*"]
    by_module: dict[str, list[str]] = {}
    for name in sorted(status):
        if any(fnmatch.fnmatch(name, p) for p in patterns):
            by_module.setdefault(module_of(name), []).append(name)
    lines = [f"# seed {seed}, {size} a module"]
    for module, names in sorted(by_module.items()):
        # a module's own seeded shuffle: a smaller sample is the start of a larger one with the same seed
        shuffled = random.Random(f"{seed}/{module}").sample(names, len(names))
        lines += sorted(shuffled[:size])
    (out / "sample.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the sampled mutants with no verdict yet: the ones a run must check
    for name in lines[1:]:
        if status[name] == "not checked":
            print(name)
    sys.exit(0)
checked = {n: s for n, s in status.items() if s != "not checked"}
open_ = [n for n, s in checked.items() if s in ("survived", "no tests") and n not in equivalent]


def summary(names) -> tuple[str, str]:
    """(the counts, the score) of these mutants; killed includes timeouts (a mutant that hangs the tests is caught)."""
    counts = Counter(status[n] for n in names)
    done = [n for n in names if status[n] != "not checked"]
    killed = counts["killed"] + counts["timeout"]
    equiv = sum(1 for n in done if n in equivalent and status[n] in ("survived", "no tests"))
    survived = sum(1 for n in done if status[n] == "survived" and n not in equivalent)
    no_tests = sum(1 for n in done if status[n] == "no tests" and n not in equivalent)
    other = len(done) - killed - equiv - survived - no_tests  # e.g. suspicious, skipped
    scored = killed + survived + no_tests
    run = "full run" if len(done) == len(names) else f"PARTIAL: {len(names) - len(done)} not checked"
    timeouts = f" ({counts['timeout']} by timeout)" if counts["timeout"] else ""
    cpu_only = sum(1 for n in done if equivalent.get(n, "").startswith(CPU_ONLY) and status[n] in ("survived", "no tests"))
    text = f"{len(names)} mutants ({run}), {killed} killed{timeouts}, {survived} survived, {no_tests} no tests, {equiv} equivalent"
    if cpu_only:
        text += f" ({cpu_only} of them only on a machine without a GPU)"
    if other:
        text += f", {other} other ({', '.join(sorted({status[n] for n in done} - {'killed', 'timeout', 'survived', 'no tests'}))})"
    return text, f"{killed}/{scored} = {100 * killed / max(scored, 1):.1f}%"


def previous_report(out: Path) -> tuple[dict, dict]:
    """The last report's line per module and section per surviving mutant, for what this clone cannot redo."""
    lines, survivors = {}, {}
    if (out / "score.txt").exists():
        for line in (out / "score.txt").read_text(encoding="utf-8").splitlines():
            # a module with nothing checked measured nothing: carried, its 0/0 would count as a score of 0
            if re.match(r"harness\.\S+: \d+/\d+ = ", line) and not re.match(r"harness\.\S+: 0/0 = ", line):
                lines[line.partition(":")[0]] = line
    if (out / "survivors.txt").exists():
        for section in (out / "survivors.txt").read_text(encoding="utf-8").split("\n## ")[0:]:
            section = section.removeprefix("## ").strip()
            if section:
                survivors[section.split()[0]] = f"## {section}\n\n"
    return lines, survivors


def survivor_section(name: str) -> str:
    """A surviving mutant's diff; from the last report where mutants/ holds no mutated code (a fresh clone)."""
    try:
        return f"## {name} ({checked[name]})\n{get_diff_for_mutant(name, path=paths[name]).strip()}\n\n"
    except FileNotFoundError:
        return previous_survivors.get(name, f"## {name} ({checked[name]})\n(run scripts/mutation.sh for its diff)\n\n")


CARRIED = "  [from an earlier run: this clone has no verdicts for it]"


def read_sample(out: Path) -> tuple[str, dict]:
    """sample.txt's header and its mutants per module (only those mutmut still knows)."""
    if not (out / "sample.txt").exists():
        return "", {}
    text = (out / "sample.txt").read_text(encoding="utf-8").splitlines()
    by_module: dict[str, list[str]] = {}
    for name in text[1:]:
        if name.strip() in status:
            by_module.setdefault(module_of(name.strip()), []).append(name.strip())
    return text[0].lstrip("# "), by_module


def sample_line(names: list[str]) -> tuple[str, float | None]:
    """The score of a module's random sample with its 95% (Wilson) interval; None while a sampled one is unchecked."""
    counts = Counter("equivalent" if n in equivalent and status[n] in ("survived", "no tests") else status[n]
                     for n in names)
    killed = counts["killed"] + counts["timeout"]
    scored = killed + counts["survived"] + counts["no tests"]
    waiting = counts["not checked"]
    head = f"  random sample ({sample_header}): {len(names)} mutants, {killed} killed, {scored - killed} not, " \
           f"{counts['equivalent']} equivalent" + (f", {waiting} NOT CHECKED" if waiting else "")
    if not scored:
        return head, None
    interval = binomtest(killed, scored).proportion_ci(method="wilson")
    head += f": {killed}/{scored} = {100 * killed / scored:.1f}% (95% CI {100 * interval.low:.1f}-{100 * interval.high:.1f}%)"
    return head, None if waiting else killed / scored
previous_lines, previous_survivors = previous_report(out)
sample_header, sampled = read_sample(out)
estimate_of: dict[str, float | None] = {}
by_module = {}
for name in status:
    by_module.setdefault(module_of(name), []).append(name)
carried = sorted(m for m, names in by_module.items()
                 if m in previous_lines and all(status[n] == "not checked" for n in names))
lines = ["score = killed / (killed + survived + no tests); equivalent mutants (equivalent.txt) are left out;",
         f"those marked {CPU_ONLY!r} there differ only on a GPU, which tests here cannot reach", ""]
killed_total, scored_total = 0, 0
for module, names in sorted(by_module.items()):
    if module in carried:
        line = previous_lines[module]
        lines.append(line if line.endswith(CARRIED) else line + CARRIED)
        killed, scored = map(int, re.search(r": (\d+)/(\d+) = ", line).groups())
    else:
        text, score = summary(names)
        lines.append(f"{module}: {score}  ({text})")
        killed, scored = map(int, score.split(" = ")[0].split("/"))
        if module in sampled:
            line, estimate_of[module] = sample_line(sampled[module])
            lines.append(line)
    if module in carried or "(full run)" in lines[-1]:
        estimate_of[module] = killed / max(scored, 1)
    killed_total, scored_total = killed_total + killed, scored_total + scored
fresh = [n for n in status if module_of(n) not in carried]
text, _ = summary(fresh)
lines += ["", f"all modules, the mutants checked: {killed_total}/{scored_total} = {100 * killed_total / max(scored_total, 1):.1f}%"
              + (f"  (checked here: {text}; {len(carried)} modules from an earlier run)" if carried else f"  ({text})")]
unknown = sorted(set(by_module) - {m for m, e in estimate_of.items() if e is not None})
if unknown:
    lines.append(f"no estimate over every mutant: neither a full run nor a checked sample for {', '.join(unknown)}")
else:  # each module's score (full run, or its sample's) weighted by its number of mutants
    weights = {m: len(by_module[m]) for m in by_module}
    total = sum(estimate_of[m] * w for m, w in weights.items()) / sum(weights.values())
    lines.append(f"estimate over every mutant (full runs, and samples where a module was not run in full): {100 * total:.1f}%")
wrongly_listed = sorted(n for n in equivalent if status.get(n) in ("killed", "timeout"))
if wrongly_listed:  # a test tells them apart after all: they count as killed; take them out of equivalent.txt
    lines += ["", f"listed as equivalent but killed: {', '.join(wrongly_listed)}"]
(out / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
with open(out / "survivors.txt", "w", encoding="utf-8") as f:
    f.writelines(section for name, section in previous_survivors.items() if module_of(name) in carried)
    for name in sorted(n for n in open_ if module_of(n) not in carried):
        f.write(survivor_section(name))
print("\n".join(lines))
