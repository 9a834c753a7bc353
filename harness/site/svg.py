"""A scatter plot as a self-contained SVG string: one point per model, no plotting library.

Measured points carry 95% error bars on both axes when their records kept predictions;
reported points never do. Labels are placed where they overlap no other label and no
point: the first free spot of a fixed list around the point; a name with no free spot
is left to the point's hover text rather than printed over another.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from html import escape
from typing import Optional

WIDTH, HEIGHT = 640, 480  # px
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 20, 76  # margins, px
LABEL_LIMIT = 25  # above this many points, names only appear on hover


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    href: str | None = None
    reported: bool = False  # a number published elsewhere, not measured here
    partial_x: bool = False  # an average over fewer tasks than its group has
    partial_y: bool = False
    note: str = ""  # extra hover text
    x_interval: Optional[tuple[float, float]] = None  # 95% interval (measured points only)
    y_interval: Optional[tuple[float, float]] = None

    def __post_init__(self) -> None:
        if self.reported and (self.x_interval or self.y_interval):
            raise ValueError(f"{self.label}: a reported number has no interval (nothing here measured it)")

    @property
    def partial(self) -> bool:
        return self.partial_x or self.partial_y


FONT_PX = 12
MARK_HALF = 6  # half the size of a point's mark, with its stroke, px


def text_width(text: str) -> float:
    """Estimated width in px at FONT_PX: wide (CJK, Hangul) characters a full em, others about 0.6 em."""
    return sum(FONT_PX if unicodedata.east_asian_width(ch) in "WF" else 0.6 * FONT_PX for ch in text)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# (dx, dy of the text anchor from the point, text-anchor): right, left, above, below, then the diagonals, then further out
_SPOTS = [(9, 4, "start"), (-9, 4, "end"), (0, -9, "middle"), (0, 18, "middle"), (8, -8, "start"), (-8, -8, "end"),
          (8, 16, "start"), (-8, 16, "end"), (0, -22, "middle"), (0, 31, "middle"), (22, 4, "start"), (-22, 4, "end")]


def _label_box(x: float, y: float, anchor: str, width: float) -> Box:
    left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
    return (left - 1, y - FONT_PX + 2, left + width + 1, y + 3)


def place_labels(centres: list[tuple[float, float]], labels: list[str], area: Box) -> list[Optional[tuple[float, float, str]]]:
    """For each point, (x, y, text-anchor) of its label, or None when every spot would overlap something."""
    marks = [(cx - MARK_HALF, cy - MARK_HALF, cx + MARK_HALF, cy + MARK_HALF) for cx, cy in centres]
    placed: list[Box] = []
    out: list[Optional[tuple[float, float, str]]] = []
    for i, ((cx, cy), label) in enumerate(zip(centres, labels)):
        width, spot = text_width(label), None
        for dx, dy, anchor in _SPOTS:
            box = _label_box(cx + dx, cy + dy, anchor, width)
            inside = area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]
            clear = not any(_overlaps(box, m) for j, m in enumerate(marks) if j != i)
            if inside and clear and not any(_overlaps(box, other) for other in placed):
                spot = (round(cx + dx, 1), round(cy + dy, 1), anchor)
                placed.append(box)
                break
        out.append(spot)
    return out


def _error_bars(p: Point, px, py, color: str) -> str:
    """Horizontal and vertical 95% bars with small caps, under the mark."""
    bars = []
    if p.x_interval:
        x0, x1, y = px(p.x_interval[0]), px(p.x_interval[1]), py(p.y)
        bars.append(f'<path d="M{x0} {y}H{x1}M{x0} {y - 3}V{y + 3}M{x1} {y - 3}V{y + 3}" stroke="{color}" '
                    f'stroke-width="1" opacity="0.6" fill="none"/>')
    if p.y_interval:
        y0, y1, x = py(p.y_interval[0]), py(p.y_interval[1]), px(p.x)
        bars.append(f'<path d="M{x} {y0}V{y1}M{x - 3} {y0}H{x + 3}M{x - 3} {y1}H{x + 3}" stroke="{color}" '
                    f'stroke-width="1" opacity="0.6" fill="none"/>')
    return "".join(bars)


def _axis(values: list[float]) -> tuple[float, float, float]:
    """A padded range with round ends and a step giving about five ticks."""
    lo, hi = min(values), max(values)
    if hi - lo < 1:
        lo, hi = lo - 1, hi + 1
    step = 10 ** math.floor(math.log10((hi - lo) / 2))
    for factor in (1, 2, 5, 10):
        if (hi - lo) / (step * factor) <= 6:
            step *= factor
            break
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def scatter(points: list[Point], x_label: str, y_label: str, title: str) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="kb-scatter" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
    ]
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no model has scores on both axes yet</text>')
        return "\n".join(parts + ["</svg>"])

    x0, x1, xs = _axis([v for p in points for v in (p.x, *(p.x_interval or ()))])
    y0, y1, ys = _axis([v for p in points for v in (p.y, *(p.y_interval or ()))])

    def px(x: float) -> float:
        return round(LEFT + (x - x0) / (x1 - x0) * plot_w, 1)

    def py(y: float) -> float:
        return round(TOP + plot_h - (y - y0) / (y1 - y0) * plot_h, 1)

    for i in range(round((x1 - x0) / xs) + 1):
        x = x0 + i * xs
        parts.append(f'<line x1="{px(x)}" y1="{TOP}" x2="{px(x)}" y2="{TOP + plot_h}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{px(x)}" y="{TOP + plot_h + 16}" text-anchor="middle">{x:g}</text>')
    for i in range(round((y1 - y0) / ys) + 1):
        y = y0 + i * ys
        parts.append(f'<line x1="{LEFT}" y1="{py(y)}" x2="{LEFT + plot_w}" y2="{py(y)}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{py(y) + 4}" text-anchor="end">{y:g}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 36}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text transform="translate(16 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>')

    show_labels = len(points) <= LABEL_LIMIT
    spots = place_labels([(px(p.x), py(p.y)) for p in points], [p.label for p in points],
                         (LEFT, TOP, LEFT + plot_w, TOP + plot_h)) if show_labels else [None] * len(points)
    for p, spot in zip(points, spots):
        cx, cy = px(p.x), py(p.y)
        color = "#c2185b" if p.reported else "#1565c0"
        fill = "white" if p.partial else color
        hover = f"{p.label}{' (reported)' if p.reported else ''}: {p.x:.2f}, {p.y:.2f}{' ' + p.note if p.note else ''}"
        for axis, interval in (("x", p.x_interval), ("y", p.y_interval)):
            if interval:
                hover += f"; {axis} 95% interval [{interval[0]:.2f}, {interval[1]:.2f}]"
        if p.reported:
            shape = f'<rect x="{cx - 5}" y="{cy - 5}" width="10" height="10" fill="{fill}" stroke="{color}" stroke-width="2"/>'
        else:
            shape = f'<circle cx="{cx}" cy="{cy}" r="5" fill="{fill}" stroke="{color}" stroke-width="2"/>'
        mark = f"<g><title>{escape(hover)}</title>{_error_bars(p, px, py, color)}{shape}"
        if spot is not None:
            tx, ty, anchor = spot
            mark += f'<text x="{tx}" y="{ty}" text-anchor="{anchor}" fill="{color}">{escape(p.label)}</text>'
        mark += "</g>"
        parts.append(f'<a href="{escape(p.href)}">{mark}</a>' if p.href else mark)

    legend_y = HEIGHT - 14  # below the axis label, never over a point
    parts += [
        f'<circle cx="{LEFT + 14}" cy="{legend_y}" r="5" fill="#1565c0"/>',
        f'<text x="{LEFT + 24}" y="{legend_y + 4}">measured here</text>',
        f'<rect x="{LEFT + 119}" y="{legend_y - 5}" width="10" height="10" fill="#c2185b"/>',
        f'<text x="{LEFT + 134}" y="{legend_y + 4}">reported elsewhere</text>',
        f'<circle cx="{LEFT + 264}" cy="{legend_y}" r="5" fill="white" stroke="#555" stroke-width="2"/>',
        f'<text x="{LEFT + 274}" y="{legend_y + 4}">hollow: partial average</text>',
        "</svg>",
    ]
    return "\n".join(parts)
