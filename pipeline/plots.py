"""Charts as inline SVG, made from numbers: a line chart with reference lines, vertical bars, horizontal bars.

Pure: it reads and writes nothing, imports nothing of panelpress, and its SVG needs no script, font or network to be
read. Each chart is an image with a name and a description (`role="img"`, `<title>`, `<desc>`, named by
`aria-labelledby`) and is drawn with CSS classes (`plot-…`) that the page that holds it colours; the page gives the
numbers again as text (a table or a summary) for whoever cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Room around the plotting area for the axes' labels, in SVG units.
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 12, 40
MAX_POINTS = 720  # a curve longer than this is reduced (a three-hour episode has 108,000 loudness values)


@dataclass(frozen=True)
class Series:
    """One curve: its name (for the legend), its points (x, y), and its CSS class."""

    name: str
    points: tuple[tuple[float, float], ...]
    css: str


@dataclass(frozen=True)
class Rule:
    """A horizontal line across a chart at `value` (a target, a ceiling), labelled."""

    value: float
    label: str
    css: str


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def number(value: float) -> str:
    """A value as an axis shows it: no needless decimals, a true minus sign."""
    text = f"{value:.10g}" if value == int(value) else f"{value:.1f}"
    return text.replace("-", "\u2212")


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values between `low` and `high` (about `count` of them), for an axis."""
    if not high > low:
        return [low]
    rough = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    first = math.ceil(low / step) * step
    return [round(first + n * step, 10) for n in range(int((high - first) / step + 1e-9) + 1)]


def reduce(points: Sequence[tuple[float, float]], limit: int = MAX_POINTS) -> tuple[tuple[float, float], ...]:
    """At most `limit` points: each run of points becomes its highest (a peak is never smoothed away)."""
    if len(points) <= limit:
        return tuple(points)
    size = math.ceil(len(points) / limit)
    return tuple((points[n][0], max(y for _, y in points[n : n + size])) for n in range(0, len(points), size))


class _Frame:
    """The plotting area of a chart and its scales."""

    def __init__(self, width: int, height: int, x: tuple[float, float], y: tuple[float, float]) -> None:
        self.width, self.height = width, height
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        self.inner_w = width - LEFT - RIGHT
        self.inner_h = height - TOP - BOTTOM

    def px(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return LEFT + (x - self.x0) / span * self.inner_w

    def py(self, y: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        clamped = min(max(y, self.y0), self.y1)
        return TOP + (self.y1 - clamped) / span * self.inner_h


def _open(ident: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" id="{escape(ident)}" role="img" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc">',
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>',
    ]


def _axes(
    frame: _Frame, xs: list[float], ys: list[float], x_format: Callable[[float], str], x_label: str, y_label: str
) -> list[str]:
    out = ['<g class="plot-axes" aria-hidden="true">']
    bottom = TOP + frame.inner_h
    for y in ys:
        at = frame.py(y)
        out.append(f'<line class="plot-grid" x1="{LEFT}" x2="{LEFT + frame.inner_w}" y1="{at:.1f}" y2="{at:.1f}"/>')
        out.append(f'<text class="plot-tick" x="{LEFT - 6}" y="{at + 4:.1f}" text-anchor="end">{number(y)}</text>')
    for x in xs:
        at = frame.px(x)
        out.append(f'<line class="plot-grid" x1="{at:.1f}" x2="{at:.1f}" y1="{bottom}" y2="{bottom + 4}"/>')
        out.append(
            f'<text class="plot-tick" x="{at:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(x_format(x))}</text>'
        )
    out.append(f'<line class="plot-axis" x1="{LEFT}" x2="{LEFT + frame.inner_w}" y1="{bottom}" y2="{bottom}"/>')
    out.append(f'<line class="plot-axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>')
    out.append(
        f'<text class="plot-label" x="{LEFT + frame.inner_w / 2:.1f}" y="{frame.height - 4}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text class="plot-label" x="12" y="{TOP + frame.inner_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + frame.inner_h / 2:.1f})">{escape(y_label)}</text>'
    )
    out.append("</g>")
    return out


def line_chart(
    ident: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    rules: Sequence[Rule] = (),
    x_label: str = "time",
    y_label: str = "",
    y_range: tuple[float, float] | None = None,
    x_format: Callable[[float], str] = clock,
    width: int = 720,
    height: int = 280,
) -> str:
    """Curves over a shared x axis, with horizontal rules (a target, a ceiling) and a legend."""
    curves = [Series(s.name, reduce(s.points), s.css) for s in series]
    xs = [x for s in curves for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in curves for _, y in s.points if math.isfinite(y)] + [r.value for r in rules]
    low, high = y_range if y_range else (min(ys, default=0.0), max(ys, default=1.0))
    frame = _Frame(width, height, (min(xs), max(xs)), (low, high))
    out = _open(ident, title, desc, width, height)
    out += _axes(frame, ticks(min(xs), max(xs), 6), ticks(low, high, 5), x_format, x_label, y_label)
    for curve in curves:
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{frame.px(x):.1f},{frame.py(y):.1f}"
            for n, (x, y) in enumerate((x, y) for x, y in curve.points if math.isfinite(y))
        )
        if path:
            out.append(
                f'<path class="plot-series {escape(curve.css)}" d="{path}"><title>{escape(curve.name)}</title></path>'
            )
    for rule in rules:
        at = frame.py(rule.value)
        out.append(
            f'<line class="plot-rule {escape(rule.css)}" x1="{LEFT}" x2="{LEFT + frame.inner_w}" y1="{at:.1f}" y2="{at:.1f}">'
            f"<title>{escape(rule.label)}</title></line>"
        )
        out.append(
            f'<text class="plot-rule-label {escape(rule.css)}" x="{LEFT + frame.inner_w - 4}" y="{at - 4:.1f}" '
            f'text-anchor="end">{escape(rule.label)}</text>'
        )
    out += _legend([(s.name, s.css) for s in curves], width)
    out.append("</svg>")
    return "\n".join(out)


def _legend(entries: Sequence[tuple[str, str]], width: int) -> list[str]:
    out = ['<g class="plot-legend" aria-hidden="true">']
    x = LEFT + 8
    for name, css in entries:
        out.append(f'<rect class="plot-key {escape(css)}" x="{x}" y="{TOP + 4}" width="14" height="4"/>')
        out.append(f'<text class="plot-tick" x="{x + 18}" y="{TOP + 10}">{escape(name)}</text>')
        x += 28 + 7 * len(name)
    out.append("</g>")
    return out


def bar_chart(
    ident: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float]],
    y_label: str = "",
    x_label: str = "",
    css: str = "plot-bar",
    width: int = 720,
    height: int = 240,
) -> str:
    """Vertical bars, one per label (days, say), in the order given; some labels are written under the axis."""
    top = max((value for _, value in bars), default=0.0) or 1.0
    frame = _Frame(width, height, (0.0, float(max(1, len(bars)))), (0.0, top))
    out = _open(ident, title, desc, width, height)
    every = max(1, math.ceil(len(bars) / 8))
    shown = [n + 0.5 for n in range(0, len(bars), every)]
    out += _axes(frame, shown, ticks(0.0, top, 4), lambda at: bars[int(at)][0] if bars else "", x_label, y_label)
    slot = frame.inner_w / max(1, len(bars))
    for n, (label, value) in enumerate(bars):
        y = frame.py(value)
        out.append(
            f'<rect class="{escape(css)}" x="{LEFT + n * slot + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{TOP + frame.inner_h - y:.1f}"><title>{escape(label)}: {number(value)}</title></rect>'
        )
    out.append("</svg>")
    return "\n".join(out)


def hbar_chart(
    ident: str,
    title: str,
    desc: str,
    bars: Sequence[tuple[str, float]],
    value_format: Callable[[float], str] = number,
    css: str = "plot-bar",
    width: int = 720,
    row: int = 24,
) -> str:
    """Horizontal bars, one row per label, each with its value written beside it."""
    label_w = min(240, 16 + 7 * max((len(label) for label, _ in bars), default=4))
    value_w = 90
    height = row * max(1, len(bars)) + 8
    top = max((value for _, value in bars), default=0.0) or 1.0
    out = _open(ident, title, desc, width, height)
    span = width - label_w - value_w
    for n, (label, value) in enumerate(bars):
        y = 4 + n * row
        length = max(0.0, value) / top * span
        out.append(
            f'<text class="plot-tick" x="{label_w - 8}" y="{y + row * 0.65:.1f}" text-anchor="end">{escape(label)}</text>'
        )
        out.append(
            f'<rect class="{escape(css)}" x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 6}">'
            f"<title>{escape(label)}: {escape(value_format(value))}</title></rect>"
        )
        out.append(
            f'<text class="plot-tick" x="{label_w + length + 6:.1f}" y="{y + row * 0.65:.1f}">{escape(value_format(value))}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
