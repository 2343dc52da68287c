"""Charts drawn on the server as SVG: the same markup on the page and in the PDF
(WeasyPrint renders inline SVG), no script, and every chart sits beside its data table.

The current period is a solid dark line or bar, the comparison period a dashed or
hatched lighter one, so the two differ without colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

CURRENT = "#1d4e89"
PREVIOUS = "#8aa9c8"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def line_chart(
    points: Sequence[tuple[int, float, float]],
    *,
    title: str,
    current_label: str,
    previous_label: str,
    unit: str = "day",
    width: int = 640,
    height: int = 250,
) -> SafeString:
    """Two series by day (or week) number: (n, current, previous)."""
    left, right, top, bottom = 48, 12, 64, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([max(c, p) for _, c, p in points] or [0]))
    count = max(len(points) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{left + plot_w * i / count:.1f},{top + plot_h * (1 - v / top_value):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{top_value * fraction:,.0f}</text>"
        )
    if points:
        previous = " ".join(xy(i, p) for i, (_, _, p) in enumerate(points))
        current = " ".join(xy(i, c) for i, (_, c, _) in enumerate(points))
        parts.append(
            f'<polyline points="{previous}" fill="none" stroke="{PREVIOUS}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<polyline points="{current}" fill="none" stroke="{CURRENT}" stroke-width="2.5"/>'
        )
        parts.append(
            f'<text x="{left}" y="{height - 8}" font-size="11">{escape(unit)} 1</text>'
            f'<text x="{width - right}" y="{height - 8}" font-size="11" text-anchor="end">'
            f"{escape(unit)} {points[-1][0]}</text>"
        )
    parts.append(_heading(title))
    parts.append(_legend(left, 34, current_label, previous_label, dashed=True))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def bar_chart(
    rows: Sequence[tuple[str, float, float]],
    *,
    title: str,
    current_label: str,
    previous_label: str,
    width: int = 640,
) -> SafeString:
    """Horizontal bars, two per row: (label, current, previous)."""
    label_w, right, top, bar_h, gap = 190, 56, 64, 9, 8
    height = top + len(rows) * (2 * bar_h + gap) + 8
    top_value = _nice_max(max([max(c, p) for _, c, p in rows] or [0]))
    plot_w = width - label_w - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse">'
        f'<rect width="4" height="4" fill="#fff"/><path d="M0,4 L4,0" stroke="{PREVIOUS}" '
        'stroke-width="1.5"/></pattern></defs>',
    ]
    for i, (label, current, previous) in enumerate(rows):
        y = top + i * (2 * bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h + 3}" font-size="11" text-anchor="end">'
            f"{escape(label[:32])}</text>"
        )
        for offset, value, fill in ((0, current, CURRENT), (bar_h, previous, "url(#hatch)")):
            w = plot_w * value / top_value
            parts.append(
                f'<rect x="{label_w}" y="{y + offset}" width="{w:.1f}" height="{bar_h - 1}" '
                f'fill="{fill}" stroke="{CURRENT if offset == 0 else PREVIOUS}"/>'
                f'<text x="{label_w + w + 4:.1f}" y="{y + offset + bar_h - 1}" font-size="10">'
                f"{value:,.0f}</text>"
            )
    parts.append(_heading(title))
    parts.append(_legend(label_w, 34, current_label, previous_label, dashed=False))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _heading(title: str) -> str:
    return f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>'


def _legend(x: int, y: int, current: str, previous: str, *, dashed: bool) -> str:
    """The two periods' keys on two lines (long period names never overlap)."""
    below = y + 16
    second = (
        f'<line x1="{x}" x2="{x + 24}" y1="{below - 4}" y2="{below - 4}" stroke="{PREVIOUS}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
        if dashed
        else f'<rect x="{x}" y="{below - 9}" width="24" height="9" fill="url(#hatch)" '
        f'stroke="{PREVIOUS}"/>'
    )
    return (
        f'<rect x="{x}" y="{y - 9}" width="24" height="9" fill="{CURRENT}"/>'
        f'<text x="{x + 30}" y="{y}" font-size="11">{escape(current)}</text>'
        f'{second}<text x="{x + 30}" y="{below}" font-size="11">{escape(previous)}</text>'
    )
