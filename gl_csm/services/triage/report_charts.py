"""Mermaid charts for the summary issue (GitLab renders ```mermaid blocks,
doc/user/markdown.md "Diagrams and flowcharts").

``xychart-beta`` draws several ``bar`` series on the same x positions, one over the
other; drawing the totals first and the worse colors after gives a stacked bar (all
accounts in green, red + yellow over it in yellow, red on top). Colors come from the
chart's ``plotColorPalette`` in series order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

GREEN, YELLOW, RED, GREY = "#108548", "#c17d10", "#dd2b0e", "#868686"


def _init(colors: Sequence[str]) -> str:
    config = {"themeVariables": {"xyChart": {"plotColorPalette": ", ".join(colors)}}}
    return "%%{init: " + json.dumps(config) + "}%%"


def _label(text: str) -> str:
    """An x-axis category: quoted, without the characters that would end it."""
    return '"' + "".join(c for c in str(text) if c not in '"[],\n\r`') + '"'


def _axis(values: Sequence[str]) -> str:
    return "[" + ", ".join(_label(v) for v in values) + "]"


def _numbers(values: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def stacked_health_bars(
    title: str, categories: Sequence[str], counts: Sequence[Mapping[str, int]], y_label: str
) -> str:
    """Bars of green / yellow / red per category (stacked as the module says)."""
    totals = [sum(c.get(k, 0) for k in ("green", "yellow", "red")) for c in counts]
    worse = [c.get("yellow", 0) + c.get("red", 0) for c in counts]
    red = [c.get("red", 0) for c in counts]
    top = max([*totals, 1])
    return "\n".join(
        [
            "```mermaid",
            _init([GREEN, YELLOW, RED]),
            "xychart-beta",
            f"    title {_label(title)}",
            f"    x-axis {_axis(categories)}",
            f"    y-axis {_label(y_label)} 0 --> {top}",
            f"    bar {_numbers(totals)}",
            f"    bar {_numbers(worse)}",
            f"    bar {_numbers(red)}",
            "```",
        ]
    )


def health_lines(title: str, weeks: Sequence[tuple[str, Mapping[str, int]]]) -> str:
    """One line per health color over the weeks."""
    top = max([*(c.get(k, 0) for _, c in weeks for k in ("green", "yellow", "red")), 1])
    lines = [
        "```mermaid",
        _init([GREEN, YELLOW, RED]),
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis {_axis([w for w, _ in weeks])}",
        f"    y-axis {_label('accounts')} 0 --> {top}",
    ]
    for color in ("green", "yellow", "red"):
        lines.append(f"    line {_numbers([c.get(color, 0) for _, c in weeks])}")
    lines.append("```")
    return "\n".join(lines)
