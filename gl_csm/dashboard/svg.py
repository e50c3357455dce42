"""Charts as inline SVG, drawn in Python: no JavaScript, no CDN, nothing to download.

Each function returns an ``<svg>`` element (markup-safe: every text is escaped) sized
by a ``viewBox`` so it scales with the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

COLORS = {"green": "#108548", "yellow": "#c17d10", "red": "#dd2b0e", "unknown": "#868686"}
STACK = ("red", "yellow", "green", "unknown")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'class="chart">'
    )
    return Markup(head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def stacked_bars(
    title: str, categories: Sequence[str], counts: Sequence[Mapping[str, int]]
) -> Markup:
    """One bar per category, stacked red / yellow / green / unknown from the bottom."""
    width, height, left, bottom, top = max(320, 70 * len(categories) + 60), 240, 40, 50, 20
    plot = height - bottom - top
    peak = max([sum(c.get(k, 0) for k in STACK) for c in counts] + [1])
    step = (width - left - 10) / max(len(categories), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot}" x2="{width - 5}" y2="{top + plot}" stroke="#999"/>',
        f'<text x="4" y="{top + 10}" font-size="11">{peak}</text>',
        f'<text x="4" y="{top + plot}" font-size="11">0</text>',
    ]
    for i, (name, c) in enumerate(zip(categories, counts, strict=True)):
        x = left + i * step + step * 0.15
        w = step * 0.7
        y = top + plot
        for key in STACK:
            n = c.get(key, 0)
            if not n:
                continue
            h = plot * n / peak
            y -= h
            body.append(
                f'<rect class="bar {key}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                f'height="{h:.1f}" fill="{COLORS[key]}"><title>{escape(str(name))}: '
                f"{n} {key}</title></rect>"
            )
        body.append(
            f'<text x="{x + w / 2:.1f}" y="{top + plot + 16}" font-size="11" '
            f'text-anchor="middle">{escape(str(name)[:14])}</text>'
        )
    return _svg(width, height, title, body)


def lines(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]]
) -> Markup:
    """One polyline per series (keys are color names of COLORS or any CSS color)."""
    width, height, left, bottom, top = 640, 240, 40, 40, 20
    plot_w, plot_h = width - left - 20, height - bottom - top
    values = [v for vs in series.values() for v in vs if v is not None]
    peak = max([*values, 1])
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="#999"/>',
        f'<text x="4" y="{top + 10}" font-size="11">{peak:g}</text>',
        f'<text x="4" y="{top + plot_h}" font-size="11">0</text>',
    ]
    # The first and last label; one label once (a one-day history has one date).
    ends = ((0, "start"), (n - 1, "end")) if n > 1 else ((0, "middle"),)
    for i, anchor in ends if labels else ():
        body.append(
            f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    for name, vs in series.items():
        color = COLORS.get(name, name)
        points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None]
        if len(points) == 1:
            cx, cy = points[0].split(",")
            body.append(f'<circle class="point" cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
        elif points:
            body.append(
                f'<polyline class="series {escape(name)}" fill="none" stroke="{color}" '
                f'stroke-width="2" points="{" ".join(points)}"/>'
            )
    return _svg(width, height, title, body)


#: What each color of the health charts stands for (the legend beside every chart).
LEGEND = {
    "green": "green",
    "yellow": "yellow",
    "red": "red",
    "unknown": "no health (pre-sales, or no scorecard data)",
}


def legend(keys: Sequence[str], words: Mapping[str, str] = LEGEND) -> Markup:
    """A line of colored swatches naming each series."""
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{COLORS.get(k, k)}"></span>'
        f"{escape(words.get(k, k))}</span>"
        for k in keys
    )
    return Markup(f'<p class="legend">{items}</p>')
