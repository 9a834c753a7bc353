"""Score and survivors from mutmut's own state (read in this process: `mutmut show` per mutant is slow)."""
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, status_by_exit_code, walk_mutatable_files

out = Path(sys.argv[1])
# Mutants judged equivalent (no test can tell them apart from the original), one per line: "name  # why".
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
checked = {n: s for n, s in status.items() if s != "not checked"}
open_ = [n for n, s in checked.items() if s in ("survived", "no tests") and n not in equivalent]


def module_of(name: str) -> str:
    return re.sub(r"\.x.*", "", name)


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
    text = f"{len(names)} mutants ({run}), {killed} killed{timeouts}, {survived} survived, {no_tests} no tests, {equiv} equivalent"
    if other:
        text += f", {other} other ({', '.join(sorted({status[n] for n in done} - {'killed', 'timeout', 'survived', 'no tests'}))})"
    return text, f"{killed}/{scored} = {100 * killed / max(scored, 1):.1f}%"


def previous_report(out: Path) -> tuple[dict, dict]:
    """The last report's line and survivors per module: kept for a module this clone has no verdicts for."""
    lines, survivors = {}, {}
    if (out / "score.txt").exists():
        for line in (out / "score.txt").read_text(encoding="utf-8").splitlines():
            if re.match(r"harness\.\S+: \d+/\d+ = ", line):
                lines[line.partition(":")[0]] = line
    if (out / "survivors.txt").exists():
        for section in (out / "survivors.txt").read_text(encoding="utf-8").split("\n## ")[0:]:
            section = section.removeprefix("## ").strip()
            if section:
                survivors.setdefault(module_of(section.split()[0]), []).append(f"## {section}\n\n")
    return lines, survivors


CARRIED = "  [from an earlier run: this clone has no verdicts for it]"
previous_lines, previous_survivors = previous_report(out)
by_module = {}
for name in status:
    by_module.setdefault(module_of(name), []).append(name)
carried = sorted(m for m, names in by_module.items()
                 if m in previous_lines and all(status[n] == "not checked" for n in names))
lines = ["score = killed / (killed + survived + no tests); equivalent mutants (equivalent.txt) are left out", ""]
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
    killed_total, scored_total = killed_total + killed, scored_total + scored
fresh = [n for n in status if module_of(n) not in carried]
text, _ = summary(fresh)
lines += ["", f"all modules: {killed_total}/{scored_total} = {100 * killed_total / max(scored_total, 1):.1f}%"
              + (f"  (checked here: {text}; {len(carried)} modules from an earlier run)" if carried else f"  ({text})")]
wrongly_listed = sorted(n for n in equivalent if status.get(n) in ("killed", "timeout"))
if wrongly_listed:  # a test tells them apart after all: they count as killed; take them out of equivalent.txt
    lines += ["", f"listed as equivalent but killed: {', '.join(wrongly_listed)}"]
(out / "score.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
with open(out / "survivors.txt", "w", encoding="utf-8") as f:
    for module in carried:
        f.writelines(previous_survivors.get(module, []))
    for name in sorted(n for n in open_ if module_of(n) not in carried):
        f.write(f"## {name} ({checked[name]})\n{get_diff_for_mutant(name, path=paths[name]).strip()}\n\n")
print("\n".join(lines))
