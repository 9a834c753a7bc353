"""Text from records and YAMLs is data, never markup: escape it for where it lands on a page.

The pages are markdown that mkdocs turns into HTML, with raw-HTML tables inside. Python-Markdown
leaves character references alone, so ``text`` writes every character that is markdown syntax
(links, emphasis, code, attribute lists ``{: ...}``, table pipes, headings) as ``&#N;``: the browser
shows the character, markdown never sees it. The same text is also safe inside HTML elements and
quoted attributes, so one escape serves every place a value is printed.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup

# Markdown syntax anywhere in a line (links, images, emphasis, code, attr_list, table cells, escapes, headings).
_MARKDOWN_CHARS = set("\\`*_{}[]()#|!~")
# Markdown syntax only at the start of a block: lists, quotes, setext rules, admonitions ('!!!').
_LEADING_CHARS = set("-+=>:")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # never meant to be shown; some confuse parsers
URL_SCHEMES = ("http", "https")
_URL_SAFE = "/?#@!$*+,;=%~-._:"  # percent-encode everything else: quotes, brackets, spaces, '<', '>'
_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")


def text(value: Any) -> Markup:
    """Escape ``value`` (any type, printed with str) for markdown and HTML; already-escaped Markup passes."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    value = _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value))).strip()
    out = []
    for i, char in enumerate(value):
        if char in _MARKDOWN_CHARS or (i == 0 and char in _LEADING_CHARS):
            out.append(f"&#{ord(char)};")
        else:
            out.append(html.escape(char, quote=True))
    escaped = "".join(out)
    # "1. x" or "1) x" at the start of a block is an ordered list
    escaped = re.sub(r"^(\d+)([.)])(?= |$)", lambda m: f"{m.group(1)}&#{ord(m.group(2))};", escaped)
    return Markup(escaped)


def safe_url(value: Any) -> Markup | None:
    """An http(s) or relative URL, percent-encoded so it cannot end the attribute or the markdown link
    it is put in; None for anything else (``javascript:``, ``data:``, ...), which pages show as plain text.
    """
    if not isinstance(value, str):
        return None
    # browsers drop tabs and newlines anywhere in a URL and control characters and spaces around it
    url = re.sub(r"[\t\n\r]", "", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
                                                 "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20")
    if not url or _CONTROL.search(url):
        return None
    url = url.replace("\\", "/")  # browsers read a backslash as a slash
    head = re.split(r"[/?#]", url, maxsplit=1)[0]
    if ":" in head and head.split(":", 1)[0].lower() not in URL_SCHEMES:  # a scheme, or what might pass for one
        return None
    try:
        urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    return Markup(html.escape(quote(url, safe=_URL_SAFE + "&"), quote=True))


def link(label: Any, url: Any) -> Markup:
    """A markdown link, or the label alone when the URL is not one a page may link to."""
    href = safe_url(url)
    return Markup(f"[{text(label)}]({href})") if href else text(label)


def page_title(value: Any) -> Markup:
    """A front-matter ``title:`` value: the theme prints it unescaped into <title> and the navigation,
    so it is HTML-escaped here, then quoted as a YAML string (JSON is YAML)."""
    return Markup(json.dumps(html.escape(_LINE_BREAKS.sub(" ", str(value)).strip(), quote=True)))


def anchor(key: Any) -> str:
    """An HTML id made of lowercase letters, digits and hyphens only (it is also put in attr_list)."""
    return _ID_UNSAFE.sub("-", str(key).lower()).strip("-") or "x"
