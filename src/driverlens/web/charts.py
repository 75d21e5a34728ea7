"""Charts as SVG drawn on the server: no chart library, no script, readable without colour.

Every chart has a title and a description for screen readers, and the numbers it shows are also in a
table on the same page; lines differ by dash pattern as well as colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH = 720
HEIGHT = 220
PAD_LEFT = 56
PAD_BOTTOM = 28
PAD_TOP = 12
PAD_RIGHT = 12


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    title: str, days: Sequence[date], series: Sequence[tuple[str, Sequence[int]]], chart_id: str
) -> str:
    """A line per series over ``days`` (series differ by colour and dash), with axes and a legend."""
    top = _nice_max(max((max(values, default=0) for _, values in series), default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return PAD_LEFT + i * step

    def y(v: int) -> float:
        return PAD_TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(_describe(days, series))}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        value = int(top * fraction)
        level = f"{y(value):.1f}"
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{level}" y2="{level}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,}</text>'
        )
    if days:
        last = len(days) - 1
        for i in sorted({0, last // 2, last}):
            anchor = "start" if i == 0 else "end" if i == last else "middle"
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{days[i].isoformat()}</text>"
            )
    for n, (name, values) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="series s{n}" points="{points}"><title>{escape(name)}</title></polyline>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _describe(days: Sequence[date], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    if not days:
        return "No data."
    totals = ", ".join(
        f"{name}: {sum(values):,} in total, at most {max(values, default=0):,} a day"
        for name, values in series
    )
    return f"From {days[0].isoformat()} to {days[-1].isoformat()}. {totals}."


def bar_chart(title: str, rows: Sequence[tuple[str, int]], chart_id: str) -> str:
    """Horizontal bars with their labels and values written out (the value is text, not only length)."""
    bar_h, gap, label_w = 18, 6, 260
    height = max(len(rows), 1) * (bar_h + gap) + gap
    top = max((v for _, v in rows), default=0) or 1
    plot_w = WIDTH - label_w - 80
    parts = [
        f'<svg class="chart bars" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        shown = label if len(label) <= 40 else label[:39] + "…"
        width = max(value / top * plot_w, 1)
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 13}" text-anchor="end">{escape(shown)}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h}"/>'
            f'<text class="value" x="{label_w + width + 6:.1f}" y="{y + 13}">{value:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
