"""The one checked way to read a file a user gave us: models.yaml, data files, model configs.

Every function here either returns what was asked or raises ``InputError`` (or the
subclass the caller passes as ``error``) with a message that names the file, the field
when there is one, and what to change. Messages never quote a file's content: at most
the offending field's value, shortened. A file from someone else (a pull request, a
shared folder) may hold anything, and our messages end up in published failure records.

``name`` is how a message calls the file (e.g. its path relative to ``--data-dir``);
it defaults to the path as given, so callers that must not leak this machine's
layout pass a relative name.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from pathlib import Path, PurePosixPath
from typing import Any, Optional, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class InputError(ValueError):
    """A file or value the user must fix; the message names the file, the field and the fix."""


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: enough to find the field, never a whole file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(path: Path, *, name: Optional[str] = None, error: type[InputError] = InputError) -> bytes:
    """The bytes of ``path``; a missing or unreadable file names itself."""
    name = name or str(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"{name}: file not found") from None
    except IsADirectoryError:
        raise error(f"{name}: is a folder, expected a file") from None
    except OSError as err:
        raise error(f"{name}: cannot be read ({err.strerror or type(err).__name__})") from None


def decode_utf8(raw: bytes, *, name: str, error: type[InputError] = InputError) -> str:
    """UTF-8 text (a leading byte-order mark dropped); other encodings are refused with the offset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(
            f"{name}: not UTF-8 text (byte {raw[err.start]:#04x} at offset {err.start}); save the file as UTF-8"
        ) from None


def read_text(path: Path, *, name: Optional[str] = None, error: type[InputError] = InputError) -> str:
    name = name or str(path)
    return decode_utf8(read_bytes(path, name=name, error=error), name=name, error=error)


def parse_json(text: str, *, name: str, error: type[InputError] = InputError) -> Any:
    """Standard JSON (NaN and Infinity refused); a syntax error gives its line and column, not the text."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise error(f"{name}: not valid JSON at line {err.lineno}, column {err.colno}: {err.msg} (a truncated file?)") from None
    except ValueError as err:
        raise error(f"{name}: not standard JSON: {err}") from None


def _reject_constant(constant: str) -> float:
    raise ValueError(f"{constant} is not a number in standard JSON")


def read_json(path: Path, *, name: Optional[str] = None, error: type[InputError] = InputError) -> Any:
    name = name or str(path)
    return parse_json(read_text(path, name=name, error=error), name=name, error=error)


MAX_YAML_BYTES = 1_000_000  # task YAMLs, models.yaml, reported.yaml and recipes are a few kB; 1 MB is far beyond any
MAX_YAML_ALIASES = 100  # anchors reused by '*name'; hand-written files use a few at most
MAX_YAML_EXPANSION = 10_000  # nodes aliases may add once expanded; an alias bomb adds billions from 1 kB


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing more than MAX_YAML_ALIASES aliases (a "billion laughs" file is a few)."""

    aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise _TooManyAliases(f"more than {MAX_YAML_ALIASES} aliases ('*name')")
        return super().compose_node(parent, index)


class _TooManyAliases(Exception):
    pass


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes ``node`` stands for once every alias is written out (each shared node counted once per use)."""
    key = id(node)
    if key not in sizes:
        sizes[key] = 0  # a recursive alias counts as one node while its own size is computed
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
        sizes[key] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[key]


def _distinct_nodes(node: yaml.Node, seen: set[int]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(n for pair in current.value for n in pair)


def parse_yaml(text: str, *, name: str, error: type[InputError] = InputError) -> Any:
    """Safe YAML; a syntax error gives its line and column. PyYAML's own message is not used: it quotes the line.

    Aliases are bounded: more than MAX_YAML_ALIASES of them, or aliases that would expand the file by more than
    MAX_YAML_EXPANSION nodes (an "alias bomb"), are refused before anything is built from them.
    """
    loader = None
    try:
        loader = _BoundedLoader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return None
        seen: set[int] = set()
        _distinct_nodes(node, seen)
        if _expanded_size(node, {}) - len(seen) > MAX_YAML_EXPANSION:
            raise _TooManyAliases(f"aliases that expand it by more than {MAX_YAML_EXPANSION} values")
        return loader.construct_document(node)
    except _TooManyAliases as err:
        raise error(f"{name}: refused: the YAML holds {err}; write the values out instead of reusing anchors") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"{name}: not valid YAML{where}: {err.problem or err.context or 'syntax error'}") from None
    except yaml.YAMLError as err:
        raise error(f"{name}: not valid YAML ({type(err).__name__})") from None
    except RecursionError:
        raise error(f"{name}: not valid YAML (nested too deeply)") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path, *, name: Optional[str] = None, error: type[InputError] = InputError,
              max_bytes: int = MAX_YAML_BYTES) -> Any:
    """A YAML file a user gave us, refused beyond ``max_bytes`` before it is read (a hand-written file is small)."""
    name = name or str(path)
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0  # read_bytes names a missing or unreadable file
    if size > max_bytes:
        raise error(f"{name}: {size:,} bytes; a YAML file here is at most {max_bytes:,} bytes (is it the right file?)")
    return parse_yaml(read_text(path, name=name, error=error), name=name, error=error)


def field_name(loc: tuple) -> str:
    """pydantic's ``('models', 2, 'name')`` -> ``models[2].name``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top level)"


def validation_problems(err: ValidationError, *, as_flags: bool = False, noun: str = "field",
                        values: bool = False) -> list[str]:
    """One ``where: what is wrong`` per problem of a pydantic error, each said once: every command and file
    reader words the same mistake the same way.

    ``where`` is the field as a file writes it (``models[2].name``), or with ``as_flags`` the command-line
    option (``--seq-len``); an unknown or missing ``noun`` says what to do. A whole-model check names its
    own fields, one problem a line. ``values`` adds the offending value, shortened, where the user typed
    it (a flag, a key of their own recipe); by default no value is repeated, as a file may hold anything.
    """
    problems = []
    for e in err.errors(include_url=False):
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = f"unknown {noun}; remove it or check its spelling"
        elif e["type"] == "missing":
            message = f"required {noun} is missing"
        elif values and not isinstance(e.get("input"), (dict, list)):
            message += f" (got {shorten(e['input'])})"
        if not e["loc"]:
            problems.extend(message.splitlines())
        elif as_flags:
            problems.append(f"--{str(e['loc'][0]).replace('_', '-')}: {message}")
        else:
            problems.append(f"{field_name(e['loc'])}: {message}")
    return list(dict.fromkeys(problems))


def describe_validation_error(err: ValidationError, *, as_flags: bool = False, noun: str = "field",
                              values: bool = False) -> str:
    """``validation_problems`` as indented lines, to follow a line that names the file or the command."""
    return "\n".join(f"  {problem}" for problem in validation_problems(err, as_flags=as_flags, noun=noun, values=values))


def validate(model: type[Model], raw: Any, *, name: str, what: str, error: type[InputError] = InputError) -> Model:
    """``raw`` as a ``model``; every problem listed with its field. ``what`` says what the file holds."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise error(f"{name}: invalid {what}\n{describe_validation_error(err)}") from None


def relative_inside(base: Path, relative: str, *, field: str, error: type[InputError] = InputError) -> Path:
    """``base / relative``, refused unless ``relative`` stays inside ``base``.

    The check is on the written path, not on where symlinks lead: a user who wants data
    from elsewhere links it into the folder, which is their explicit choice. Absolute
    paths, drive letters and '..' that climbs out of ``base`` are refused.
    """
    text = str(relative).replace("\\", "/")
    normal = posixpath.normpath(text) if text else ""
    if (
        not text
        or PurePosixPath(text).is_absolute()
        or re.match(r"^[A-Za-z]:", text)
        or normal == ".."
        or normal.startswith("../")
    ):
        raise error(
            f"{field}: {shorten(relative)} must be a path relative to its folder that stays inside it "
            "(no leading '/', drive letter or '..'); to use files from elsewhere, link them into the folder"
        )
    return Path(base) / normal


def shown_path(path: Path | str) -> str:
    """A file as a message names it without this machine's layout: relative to the working
    folder when inside it ('tasks/klue/nli.yaml'), else '.../<folder>/<name>'."""
    resolved = Path(path).expanduser().resolve()
    here = Path.cwd().resolve()
    if here != Path(here.anchor):
        try:
            return resolved.relative_to(here).as_posix()
        except ValueError:
            pass
    return ".../" + "/".join(resolved.parts[-2:])


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


__all__ = [
    "InputError",
    "decode_utf8",
    "describe_validation_error",
    "field_name",
    "parse_json",
    "parse_yaml",
    "read_bytes",
    "read_json",
    "read_text",
    "read_yaml",
    "relative_inside",
    "sha256_hex",
    "shorten",
    "shown_path",
    "validate",
    "validation_problems",
]
