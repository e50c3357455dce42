"""What readers saw wrong in the rendered texts, checked on the same renders
as the golden files, so each fix stays fixed whatever else the wording becomes."""

from __future__ import annotations

import re


def test_no_machine_plurals_or_never_dates(rendered: dict[str, str]) -> None:
    """No "every 2 day(s)", no "on never"."""
    for name, text in rendered.items():
        assert not re.search(r"\b(day|week|month)\(s\)", text), name
        assert "on never" not in text, name
        assert "never (opened" not in text, name
    day2 = rendered["bot/day2/escalations/escalation--initech.md"]
    assert "severity high: every 2 days" in day2
    assert "No person has posted an update since the issue was opened on 2026-11-23" in day2


def test_plan_lines_name_milestones_by_title(rendered: dict[str, str]) -> None:
    """A plan line says "milestone 'Proof of concept'", not the key."""
    plan = rendered["bot/plans/onboard-tyrell.txt"]
    assert "milestone 'Proof of concept'" in plan
    assert "milestone poc" not in plan
    promote = rendered["bot/plans/promote-tyrell.txt"]
    assert "milestone 'Onboarding'" in promote and "milestone onboarding" not in promote


def test_headings_have_a_blank_line_before_them(rendered: dict[str, str]) -> None:
    """Markdown needs a blank line before a heading (the Question
    template ran "(please add the version)" into "## By when ...")."""
    for name, text in rendered.items():
        if not name.endswith((".md", ".txt")):
            continue
        lines = text.split("\n")
        for i, line in enumerate(lines[1:], start=1):
            if (
                re.match(r"#{1,6} ", line)
                and lines[i - 1].strip()
                and not lines[i - 1].startswith(("<!--", "#", "title:", "---", "```"))
            ):
                raise AssertionError(f"{name}:{i + 1}: no blank line before {line!r}")
