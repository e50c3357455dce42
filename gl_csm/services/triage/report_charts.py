"""Mermaid charts for the summary issue (GitLab renders ```mermaid blocks,
doc/user/markdown.md "Diagrams and flowcharts"; ``xychart-beta`` needs Mermaid 10.6,
see the README for the GitLab version). Mermaid's xychart draws no legend, so the
report puts a legend sentence (:data:`BARS_LEGEND`, :data:`LINES_LEGEND`) and a table
with the figures beside every chart.

``xychart-beta`` draws several ``bar`` series on the same x positions, one over the
other; drawing the totals first and the worse colors after gives a stacked bar (all
accounts in grey, those with a health in green over it, red + yellow in yellow, red on
top). Colors come from the chart's ``plotColorPalette`` in series order.

Two things of Mermaid's xychart (packages/mermaid/src/diagrams/xychart/chartBuilder/
components/axis/linearAxis.ts and plot/barPlot.ts) are worked around here:

- the y axis is d3's ``scaleLinear().ticks()`` (ten ticks): below a top of 8 its step
  is a fraction ("2.6 accounts"), so the axis goes at least to 8;
- the value axis is inset by an outer padding and a bar always reaches the plot's
  bottom, so a zero draws a sliver under the zero line in the last series' color (a
  red sliver under every bar). A last, all-zero series in the chart's background color
  covers that strip under every bar.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

GREEN, YELLOW, RED, GREY, PAPER = "#108548", "#c17d10", "#dd2b0e", "#868686", "#ffffff"
#: The lowest axis top whose d3 ticks are whole numbers (step 1 from a top of 8 on).
MIN_TOP = 8

BARS_LEGEND = (
    "Each bar stacks the accounts: red at the bottom, then yellow, green, and grey on top "
    "for those without a health"
)
LINES_LEGEND = "Lines: green, yellow and red accounts, and grey for accounts without scorecard data"


def _init(colors: Sequence[str]) -> str:
    xy = {"backgroundColor": PAPER, "plotColorPalette": ", ".join(colors)}
    return "%%{init: " + json.dumps({"themeVariables": {"xyChart": xy}}) + "}%%"


def _label(text: str) -> str:
    """An x-axis category: quoted, without the characters that would end it."""
    return '"' + "".join(c for c in str(text) if c not in '"[],\n\r`') + '"'


def _axis(values: Sequence[str]) -> str:
    return "[" + ", ".join(_label(v) for v in values) + "]"


def _numbers(values: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def axis_top(peak: int) -> int:
    """The y axis' top: whole-number ticks, never under the data."""
    return max(int(peak), MIN_TOP)


def stacked_health_bars(
    title: str, categories: Sequence[str], counts: Sequence[Mapping[str, int]], y_label: str
) -> str:
    """Bars of green / yellow / red / unknown per category (stacked as the module says);
    every account of ``counts`` is drawn, those without a health ("unknown") in grey."""
    every = [sum(c.get(k, 0) for k in ("green", "yellow", "red", "unknown")) for c in counts]
    health = [sum(c.get(k, 0) for k in ("green", "yellow", "red")) for c in counts]
    worse = [c.get("yellow", 0) + c.get("red", 0) for c in counts]
    red = [c.get("red", 0) for c in counts]
    return "\n".join(
        [
            "```mermaid",
            _init([GREY, GREEN, YELLOW, RED, PAPER]),
            "xychart-beta",
            f"    title {_label(title)}",
            f"    x-axis {_axis(categories)}",
            f"    y-axis {_label(y_label)} 0 --> {axis_top(max([*every, 0]))}",
            f"    bar {_numbers(every)}",
            f"    bar {_numbers(health)}",
            f"    bar {_numbers(worse)}",
            f"    bar {_numbers(red)}",
            f"    bar {_numbers([0] * len(counts))}",
            "```",
        ]
    )


def health_lines(title: str, weeks: Sequence[tuple[str, Mapping[str, int]]]) -> str | None:
    """One line per health over the weeks; None for fewer than two weeks (a line needs
    two points: Mermaid draws nothing for one)."""
    if len(weeks) < 2:
        return None
    keys = ("green", "yellow", "red", "unknown")
    top = axis_top(max([*(c.get(k, 0) for _, c in weeks for k in keys), 0]))
    lines = [
        "```mermaid",
        _init([GREEN, YELLOW, RED, GREY]),
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis {_axis([w for w, _ in weeks])}",
        f"    y-axis {_label('accounts')} 0 --> {top}",
    ]
    for key in keys:
        lines.append(f"    line {_numbers([c.get(key, 0) for _, c in weeks])}")
    lines.append("```")
    return "\n".join(lines)
