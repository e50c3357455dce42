"""Copied markers never hijack an account: the bot adopts as its own only issues and
notes its own user wrote (``author.id``, doc/api/issues.md and doc/api/notes.md), and
an issue's own marker of a kind is its first one (the bot writes one, at the top); a
person's issue carrying a copied marker, or another account's marker pasted into a card,
is ignored, and the run says so (ARCHITECTURE rule 3)."""

from __future__ import annotations

from pathlib import Path

from gl_csm import markers
from gl_csm.services.triage.bot_issues import _posted_keys
from tests.services.triage_world import ACCOUNTS, World


def _world(tmp_path: Path) -> World:
    world = World(tmp_path)
    # What `gl-csm` does first on a real GitLab (runtime: check_connection).
    world.gateway.check_connection()
    assert world.gateway.bot_id == world.sandbox.bot_user_id
    return world


def _as_person(world: World, iid: int, username: str = "alice") -> None:
    """The issue's author becomes a person (the sandbox answers every token as the bot)."""
    user = world.sandbox.store.user_by_username(username)
    assert user is not None
    world.sandbox.store.project(ACCOUNTS)["issues"][iid]["author_id"] = user["id"]


def _tracking(world: World) -> dict[str, dict]:
    gw = world.gateway
    return markers.index_by_marker(gw.issues(ACCOUNTS, state="all"), "tracking")


def test_a_persons_issue_with_a_copied_marker_is_not_adopted(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.add("acme", "Acme")
    world.run()
    token = markers.token("tracking", "initech")
    copied = world.person().create_issue(
        ACCOUNTS, "Notes on Initech", f"{markers.marker('tracking', 'initech')}\nmine", token
    )
    _as_person(world, copied["iid"])
    world.add("initech", "Initech")
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    mine = _tracking(world)["initech"]
    assert mine["iid"] != copied["iid"] and mine["title"] != "Notes on Initech"
    assert any(
        f"#{copied['iid']} carries the marker {token} but a person wrote it: ignored" in n
        for n in outcome.notes
    )
    _, _, again = world.run()
    assert again.writes == 0


def test_another_accounts_marker_pasted_into_a_card_changes_nothing(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.add("acme", "Acme")
    world.add("initech", "Initech", segment="growth")
    world.run()
    cards = _tracking(world)
    acme, initech = cards["acme"], cards["initech"]
    assert acme["id"] < initech["id"]  # acme's card would win initech's marker (oldest)
    pasted = acme["description"] + "\n\n> " + markers.marker("tracking", "initech") + "\n"
    world.person().update_issue(ACCOUNTS, acme["iid"], description=pasted)
    outcome, _, _ = world.run()
    assert outcome.exit_code == 0, outcome.failures
    after = _tracking(world)
    assert (after["acme"]["iid"], after["initech"]["iid"]) == (acme["iid"], initech["iid"])
    assert any(
        f"#{acme['iid']} (tracking of acme) also carries gl-csm:tracking:initech: ignored" in n
        for n in outcome.notes
    )
    labels = {slug: sorted(after[slug]["labels"]) for slug in ("acme", "initech")}
    _, _, again = world.run()
    assert again.writes == 0
    final = _tracking(world)
    assert {slug: sorted(final[slug]["labels"]) for slug in ("acme", "initech")} == labels


def test_a_persons_comment_quoting_a_bot_note_does_not_count_as_posted() -> None:
    quoted = f"> {markers.marker('at-risk-reminder', 'acme:2026-11-23')}\nwe are on it"
    person = {"body": quoted, markers.BY_PERSON: True}
    bot = {"body": markers.marker("at-risk-reminder", "acme:2026-11-30")}
    assert _posted_keys([person, bot], "at-risk-reminder", "acme") == {"2026-11-30"}
