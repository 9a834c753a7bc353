"""A reports folder, task YAMLs, models.yaml and reported.yaml whose every rendered text field is hostile,
and a checker that finds active content (elements, handler attributes, script URLs) in built pages.

Every attack string carries the marker ``xss`` so a page that runs one can be traced to its input.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import yaml

from site_synth import make_record, write_record

from harness.results import predictions, records
from harness.results.records import FAILURE_SCHEMA, write_json_atomic
from site_synth import failure_path, record_path
from harness.tasks.spec import load_spec

# The probes that broke the site once, and their relatives.
ATTACKS = [
    "<script>alert('xss')</script>",
    "x</title><script>alert('xss')</script>",
    '"><img src=x onerror=alert("xss")>',
    "'><svg onload=alert('xss')>",
    "name {: autofocus onfocus=alert('xss') }",
    "{: #id .cls onclick=alert('xss') }",
    "[click](javascript:alert('xss'))",
    "![img](javascript:alert('xss'))",
    "<javascript:alert('xss')>",
    "[ref][r]\n\n[r]: javascript:alert('xss')",
    "<a href=\"javascript:alert('xss')\">a</a>",
    "<iframe srcdoc='<script>alert(1)</script>' title=xss></iframe>",
    "java\tscript:alert('xss')",
    "JaVaScRiPt:alert('xss')",
    "data:text/html,<script>alert('xss')</script>",
    "<base href='//xss.example/'>",
    "<style>body{background:url(javascript:alert('xss'))}</style>",
    "| xss | pipe |\n|---|---|",
    "# heading xss\n\n!!! note \"xss\"",
    "*em* _u_ `code` **b** ~~s~~ \\[x\\]",
    "&lt;script&gt;alert('xss')&lt;/script&gt;",
    "&#60;script&#62;alert('xss')&#60;/script&#62;",
    "<!-- xss --> <![CDATA[xss]]>",
    "{{ xss }} {% raw %}",
    "1. xss\n- item\n> quote",
    "모델 <b onmouseover=alert('xss')>굵게</b> é \u2028 \u202e",
]
URL_ATTACKS = ["javascript:alert('xss')", " javascript:alert('xss')", "JAVASCRIPT:alert('xss')",
               "java\nscript:alert('xss')", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
               "vbscript:msgbox('xss')", "\x01javascript:alert('xss')", "https://example.org/\"onmouseover=\"alert('xss')",
               "https://example.org/x) [y](javascript:alert('xss')"]

FUZZ_TASKS = ["glue/mrpc", "glue/sst2", "klue/ynat"]  # a few of the real tasks, copied and made hostile


@dataclass
class HostileWorld:
    reports: Path
    tasks: Path
    models: Path
    reported: Path


def hostile_world(root: Path, tasks_dir: Path, strings: Iterable[str], urls: Iterable[str] = URL_ATTACKS) -> HostileWorld:
    """Write every input of a site build under ``root``, taking the text of each field from ``strings``
    (cycled) and every link from ``urls``."""
    say = _cycle(strings)
    link = _cycle(urls)
    world = HostileWorld(root / "reports", root / "tasks", root / "models.yaml", root / "reports" / "reported.yaml")
    results = world.reports / "results"

    specs = []
    for task_id in FUZZ_TASKS:
        source = tasks_dir / f"{task_id}.yaml"
        spec = yaml.safe_load(source.read_text(encoding="utf-8"))
        spec.update(name=next(say), description=next(say))
        target = world.tasks / f"{task_id}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        specs.append(load_spec(target, task_id))

    model_ids = [f"{next(say)} #{i}" for i in range(3)]  # unique, whatever the strings are
    env = {"koenbench": next(say), "git": next(say), "torch": "2", "transformers": "4", "device": next(say),
           "precision": next(say)}
    for i, model_id in enumerate(model_ids):
        for spec in specs[: 3 - i]:  # complete, partial and single-task rows
            record = make_record(model_id, spec, 50.0 + i, env=env, revision=next(say))
            record["data"]["source"] = next(say)
            record["warnings"] = [next(say)]
            if i == 2:  # a run outside the protocol, listed apart with its deviations
                record["protocol"] = {"followed": False, "deviations": [next(say), next(say)]}
            if i < 2 and spec is not specs[2]:  # paired on the model pages; the second task on other examples
                fingerprint = next(say) if (i, spec) == (1, specs[1]) else "f" * 64
                record["predictions"] = _keep_predictions(results, record, fingerprint)
            write_record(results, record)
    write_json_atomic(failure_path(results, model_ids[1], specs[-1].id), {  # the old shape, read by migration
        "schema": "koenbench.failure/1", "model": {"id": model_ids[1]}, "task": {"id": specs[-1].id},
        "error": next(say), "started_at": "2026-11-27T10:00:00Z"})
    write_json_atomic(failure_path(results, model_ids[2], specs[-1].id), {
        "schema": FAILURE_SCHEMA, "model": {"id": model_ids[2], "revision": next(say), "source": "hub"},
        "task": {"id": specs[-1].id}, "error": {"type": next(say), "message": next(say)},
        "started_at": "2026-11-27T10:00:00Z"})
    odd = results / _file_name(next(say))  # a folder name shows on the page as part of a skipped file's name
    odd.mkdir(parents=True, exist_ok=True)
    (odd / "foreign.json").write_text(json.dumps({"schema": next(say)}), encoding="utf-8")
    bad = make_record(model_ids[0], specs[0], 1.0)
    bad["task"]["primary_metric"] = next(say)
    (odd / "invalid.json").write_text(json.dumps(bad), encoding="utf-8")

    world.models.write_text(yaml.safe_dump({"models": [  # the first model is the reference the others are compared with
        {"id": model_ids[0], "name": next(say), "languages": [next(say)], "params": next(say), "reference": True,
         "links": {next(say): next(link), "home": next(link), "ok": "https://example.org/a?b=1&c=2"}},
        {"id": next(say), "name": next(say), "links": {next(say): next(link)}},
    ]}, allow_unicode=True), encoding="utf-8")

    keys = [f"{next(say)} {i}" for i in range(2)]
    world.reported.write_text(yaml.safe_dump({
        "sources": {key: {"title": next(say), "url": next(link), "notes": next(say)} for key in keys},
        "numbers": [{"source": keys[0], "model": model_ids[0], "task": specs[0].id, "metric": specs[0].metrics.primary,
                     "value": 80.0},
                    {"source": keys[1], "model": next(say), "task": specs[1].id, "metric": specs[1].metrics.primary,
                     "value": 70.0}],
    }, allow_unicode=True), encoding="utf-8")
    return world


def _keep_predictions(results: Path, record: dict, fingerprint: str) -> dict:
    """A predictions file beside the record (random labels; its fingerprint may be hostile text too); the record's
    scores become those of the predictions, as a run writes them."""
    rng = np.random.default_rng(len(record["model"]["id"]))
    gold = rng.integers(0, 2, record["data"]["validation_examples"])
    seeds = [s["seed"] for s in record["seeds"]]
    kept = predictions.TaskPredictions(record["task"]["id"], "label", fingerprint, seeds, gold,
                                       [rng.integers(0, 2, len(gold)) for _ in seeds])
    scored = kept.for_bootstrap()
    for metric in record["scores"]:
        for seed, score in zip(record["seeds"], scored.seed_scores(metric)):
            seed["scores"][metric] = round(float(score), 4)
    record["scores"], record["std"] = records.aggregate_seeds([records.parse_seed(s) for s in record["seeds"]])
    path = predictions.file_for(record_path(results, record["model"]["id"], record["task"]["id"]))
    return {"path": path.name, "sha256": predictions.save(path, kept)}


def copy_tasks(tasks_dir: Path, out: Path) -> Path:
    for task_id in FUZZ_TASKS:
        (out / task_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tasks_dir / f"{task_id}.yaml", out / f"{task_id}.yaml")
    return out


def _cycle(strings: Iterable[str]) -> Iterator[str]:
    items = [s if s.strip() else f"{s}x" for s in strings]  # records refuse empty names
    return itertools.cycle(items or ["x"])


def _file_name(value: str) -> str:
    name = "".join(c for c in value if c not in "/\\\x00").strip()[:80].encode("utf-8")[:200].decode("utf-8", "ignore")
    return name if name not in ("", ".", "..") else "odd"


# --- the checker ---------------------------------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "cite"}
DANGEROUS_ATTRIBUTES = {"autofocus", "srcdoc", "formaction"}
SAFE_SCHEMES = ("http:", "https:")


class ActiveContent(HTMLParser):
    """Collects what could run: elements of unexpected kinds, handler attributes, non-http URLs,
    and script or style text carrying the marker."""

    def __init__(self, allowed_tags: set[str] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.tags: set[str] = set()
        self.problems: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if self.allowed_tags is not None and tag not in self.allowed_tags:
            self.problems.append(f"unexpected <{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name in DANGEROUS_ATTRIBUTES:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES:
                url = "".join(c for c in value if c > " " and c != "\x7f").lower()
                scheme = url.split(":", 1)[0] + ":" if ":" in url.split("/", 1)[0].split("?", 1)[0] else ""
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"<{tag} {name}={value!r}>")
            if "xss" in value.lower() and tag in ("script", "style", "base", "meta", "link", "iframe", "object",
                                                   "embed", "img", "form"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in ("script", "style"):
            self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._in.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and "xss" in data.lower():
            self.problems.append(f"<{self._in[-1]}> holding {data[:80]!r}")


def active_content(site_root: Path, allowed_tags: set[str] | None = None) -> tuple[set[str], list[str]]:
    """(every tag used, every problem as 'page: what') over the HTML and SVG files of a built site."""
    tags: set[str] = set()
    problems: list[str] = []
    for page in sorted([*site_root.rglob("*.html"), *site_root.rglob("*.svg")]):
        parser = ActiveContent(allowed_tags)
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        tags |= parser.tags
        problems += [f"{page.relative_to(site_root)}: {p}" for p in parser.problems]
    return tags, problems
