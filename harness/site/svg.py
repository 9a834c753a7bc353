"""A scatter plot as a self-contained SVG string: one point per model, no plotting library."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

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

    @property
    def partial(self) -> bool:
        return self.partial_x or self.partial_y


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

    x0, x1, xs = _axis([p.x for p in points])
    y0, y1, ys = _axis([p.y for p in points])

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

    for p in points:
        cx, cy = px(p.x), py(p.y)
        color = "#c2185b" if p.reported else "#1565c0"
        fill = "white" if p.partial else color
        hover = f"{p.label}{' (reported)' if p.reported else ''}: {p.x:.2f}, {p.y:.2f}{' ' + p.note if p.note else ''}"
        if p.reported:
            shape = f'<rect x="{cx - 5}" y="{cy - 5}" width="10" height="10" fill="{fill}" stroke="{color}" stroke-width="2"/>'
        else:
            shape = f'<circle cx="{cx}" cy="{cy}" r="5" fill="{fill}" stroke="{color}" stroke-width="2"/>'
        mark = f"<g><title>{escape(hover)}</title>{shape}"
        if len(points) <= LABEL_LIMIT:
            # right-half labels grow leftwards so they stay inside; reported ones sit below, measured above
            right = cx > LEFT + plot_w / 2
            tx, anchor, ty = (cx - 8 if right else cx + 8), ("end" if right else "start"), (cy + 17 if p.reported else cy - 8)
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
