"""Mentions and references smuggled in as character references (``&#64;all``,
``&commat;vp-cs``) or written plainly (``#12``, ``!3``, ``&7``) in CRM or registry
text reach nobody and nothing; a reserved username (``all``) is refused.

The sandbox renders a text as GitLab's reference filters see it (character references
decoded, gl_csm/sandbox/references.py) and records who would be notified, so these
tests see what GitLab would send. Usernames: lib/gitlab/path_regex.rb and the ``@all``
special mention (app/models/user.rb ``reference_pattern``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.domain.account import is_username
from gl_csm.registry import load_registry
from gl_csm.sandbox.references import as_rendered, reaching
from gl_csm.templates import TemplateRenderError, mention, neutralise, safe_title
from tests.services.triage_world import ACCOUNTS, RED, TRIAGE, World

SMUGGLED = "Evil &#64;all &commat;vp-cs &#x40;noram-mgr Corp #1 !2 &3 ops/x#4"


def test_the_sandbox_decodes_character_references_as_gitlab_renders_them() -> None:
    assert as_rendered("a &#64;b &commat;c &#x40;d `&#64;e` &amp;#64;f") == ("a @b @c @d   &#64;f")
    assert reaching(SMUGGLED) == ["@all", "@vp-cs", "@noram-mgr", "#1", "!2", "&3", "ops/x#4"]


def test_neutralised_text_reaches_nobody_and_nothing() -> None:
    assert reaching(neutralise(SMUGGLED)) == []
    assert reaching(safe_title(SMUGGLED)) == []
    assert reaching(neutralise("mail bob@example.com, 100% of $650,000, C# and AT&T")) == []


def test_a_note_with_an_encoded_mention_notifies_in_the_sandbox(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme", "Acme")
    world.run()
    issue = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")["acme"]
    token = markers.token("test", "note")
    world.person().create_note(ACCOUNTS, issue["iid"], f"hi &#64;alice {token}", token)
    assert world.mentioned(ACCOUNTS, issue["iid"], "note") == {"alice"}


def test_a_crm_name_with_encoded_mentions_notifies_only_whom_the_bot_chose(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.add("evil", SMUGGLED, **RED)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    (change,) = [c for c in outcome.changes if c.target.endswith("triage issue of evil")]
    said = set(change.detail.split("mentioning ", 1)[1].split(", ")) - {"nobody"}
    (triage,) = world.issues(TRIAGE)
    assert "all" not in said
    assert world.mentioned(TRIAGE, triage["iid"]) == said
    assert "all" not in {m["username"] for m in world.sandbox.mentions}
    for project in (ACCOUNTS, TRIAGE):
        for issue in world.issues(project):
            found = reaching(issue["title"]) + reaching(issue["description"])
            assert not [r for r in found if not r.startswith("@")], (issue["title"], found)
            assert not {r[1:] for r in found} - said - {"alice", "bob", "carol"}


@pytest.mark.parametrize("name", ["all", "ALL", "admin", "help"])
def test_a_reserved_username_is_refused(tmp_path: Path, name: str) -> None:
    assert not is_username(name)
    with pytest.raises(TemplateRenderError):
        mention(name)
    (tmp_path / "x.yml").write_text(
        f"name: X\nsegment: growth\ncustomer_since: 2025-01-01\nteam: {{csm: {name}}}\n"
    )
    registry = load_registry(tmp_path)
    assert not registry.accounts
    assert "not a reserved name such as 'all'" in str(registry.problems[0])
