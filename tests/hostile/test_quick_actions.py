"""No quick action runs through text the bot writes.

The sandbox's extractor is a port of GitLab's (lib/gitlab/quick_actions/extractor.rb,
``commands_regex``), so these tests see what GitLab would run; the bot makes every
``/`` line of what it writes inert (gl_csm/templates.py ``inert_commands``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox
from gl_csm.sandbox.quick_actions import extract
from gl_csm.services.templates_review import PREVIEW_KIND, plan_mr_preview
from gl_csm.templates import ZWSP, inert_commands
from tests.conftest import TODAY, templates_copied_into

PROJECT = "customer-success/accounts"
QUESTION = "project_templates/enterprise/issue_templates/Question.md.j2"
HOSTILE = "\n/title Pwned\n/close\n/assign @mallory\n/lock\n/label ~x\n"


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        # extractor.rb: a code block ends only at a line of exactly three backticks.
        ("```\n/close\n```", []),
        ("~~~\n/close\n~~~", [("close", "")]),
        # "inline code" runs from a line start to a later backtick that ends a line.
        ("see `a`\n/close", [("close", "")]),
        ("````\n/close\n````", []),
        ("````\n/close\n````\n/lock", [("lock", "")]),
        ("<details>\n/close\n</details>", []),
        (">>>\n/close\n>>>", []),
        ("/CLOSE\n/title  Two words ", [("close", ""), ("title", "Two words")]),
        ("x\r\n/close\r\n", [("close", "")]),
        ("/closed\n /close\n\\/close\n\u200b/close", []),
    ],
)
def test_extractor_follows_gitlab(text: str, commands: list[tuple[str, str]]) -> None:
    """lib/gitlab/quick_actions/extractor.rb (commands_regex, flags mix)."""
    assert extract(text)[1] == commands


def test_inert_commands_keeps_every_line_and_runs_none() -> None:
    text = "a\n/close\r\n\r/lock\n```\n/merge\n```\n  /x"
    inert = inert_commands(text)
    assert extract(inert)[1] == []
    assert inert.replace(ZWSP, "") == text
    assert inert_commands(inert) == inert


@pytest.fixture
def repo(workdir: Path) -> Path:
    yield from templates_copied_into(workdir)


def test_preview_of_a_hostile_template_changes_nothing_on_the_mr(
    repo: Path, gateway: Gateway, sandbox: Sandbox, settings: Settings
) -> None:
    """doc/user/project/quick_actions.md: a note's command lines run as its author; the
    preview note (SPEC 5 Template review) must run none, whatever the template holds."""
    sandbox.seed(users=["mallory"])
    gateway.create_label("project", PROJECT, "x", "#111111", "")
    template = repo / QUESTION
    template.write_text(template.read_text() + HOSTILE)
    mr = sandbox.create_merge_request(PROJECT, changes=[{"new_path": QUESTION}])
    before = gateway.merge_request(PROJECT, mr["iid"])

    outcome = plan_mr_preview(gateway, settings, TODAY, PROJECT, mr["iid"]).apply(gateway)

    assert [c.action for c in outcome.changes] == ["create-note"]
    after = gateway.merge_request(PROJECT, mr["iid"])
    for key in ("title", "state", "assignees", "labels", "discussion_locked"):
        assert after[key] == before[key], key
    notes = gateway.notes(PROJECT, mr["iid"], kind="merge_requests")
    (note,) = [n for n in notes if markers.has_marker(n["body"], PREVIEW_KIND, f"mr-{mr['iid']}")]
    # The reader still sees the template's lines.
    visible = note["body"].replace(ZWSP, "")
    assert "/title Pwned" in visible and "/label ~question" in visible
    assert not [n for n in notes if n["system"]]


@pytest.mark.parametrize(
    "text",
    [
        "Reason:\n/close\n/lock",
        "~~~\n/close\n~~~",
        "````\n/close\n````\n/lock\n/title Pwned",
        "```\n```\n/close\n/lock",
        "| a |\n/close",
    ],
)
def test_bot_notes_and_descriptions_run_no_command(gateway: Gateway, text: str) -> None:
    """lib/gitlab/quick_actions/extractor.rb: whatever fence the bot's text sits in,
    the gateway sends no line GitLab would run (notes: doc/api/notes.md; descriptions:
    doc/api/issues.md, both run quick actions as their author)."""
    token = markers.token("test", "one")
    body = markers.marker("test", "one") + "\n" + text
    issue = gateway.create_issue(PROJECT, "t", body, token)
    gateway.create_note(PROJECT, issue["iid"], body, token)
    gateway.update_issue(PROJECT, issue["iid"], description=body)
    after = gateway.issue(PROJECT, issue["iid"])
    assert (after["title"], after["state"], after["discussion_locked"]) == ("t", "opened", None)
    assert after["description"].replace(ZWSP, "") == body
