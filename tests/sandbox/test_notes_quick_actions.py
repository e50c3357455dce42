"""Notes (doc/api/notes.md), quick actions (doc/user/project/quick_actions.md),
mentions (doc/user/discussions/_index.md) and merge requests (doc/api/merge_requests.md)."""

from __future__ import annotations

from typing import Any

import gitlab
import pytest

from gl_csm.sandbox import Sandbox
from gl_csm.sandbox.markdown import mentioned_names
from gl_csm.sandbox.quick_actions import extract

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


@pytest.fixture
def issue(http: Http) -> dict[str, Any]:
    http.post(f"{P}/labels", json={"name": "triage::needed", "color": "#111111"})
    http.post(f"{P}/labels", json={"name": "triage::open", "color": "#222222"})
    http.post(f"{P}/labels", json={"name": "two words", "color": "#333333"})
    return dict(http.post(f"{P}/issues", json={"title": "t"}).json())


def _note(http: Http, body: str, iid: int = 1) -> Any:
    return http.post(f"{P}/issues/{iid}/notes", json={"body": body})


def test_note_json_and_default_order(http: Http, issue: dict[str, Any]) -> None:
    """doc/api/notes.md: note fields; listing defaults to created_at desc."""
    first = _note(http, "first").json()
    _note(http, "second")
    assert first["noteable_type"] == "Issue"
    assert first["noteable_iid"] == 1 and first["noteable_id"] == issue["id"]
    assert first["system"] is False and first["internal"] is False
    assert first["author"]["username"] == "gl-csm-bot"
    bodies = [n["body"] for n in http.get(f"{P}/issues/1/notes").json()]
    assert bodies == ["second", "first"]
    asc = http.get(f"{P}/issues/1/notes", params={"sort": "asc"}).json()
    assert [n["body"] for n in asc] == ["first", "second"]
    assert http.get(f"{P}/issues/1/notes/{first['id']}").json()["body"] == "first"


def test_internal_note_and_edit(http: Http, issue: dict[str, Any]) -> None:
    """doc/api/notes.md: ``internal`` flag; ``PUT .../notes/:note_id`` edits the body."""
    note = http.post(f"{P}/issues/1/notes", json={"body": "secret", "internal": True}).json()
    assert note["internal"] is True and note["confidential"] is True
    edited = http.put(f"{P}/issues/1/notes/{note['id']}", json={"body": "changed"}).json()
    assert edited["body"] == "changed"


def test_note_body_limit(http: Http, issue: dict[str, Any]) -> None:
    """doc/api/notes.md: body is limited to 1,000,000 characters."""
    assert _note(http, "x" * 1_000_000).status_code == 201
    r = _note(http, "x" * 1_000_001)
    assert r.status_code == 400
    assert "is too long (maximum is 1000000 characters)" in r.json()["message"]


def test_note_touches_issue_updated_at(sb: Sandbox, http: Http, issue: dict[str, Any]) -> None:
    import datetime as dt

    sb.store.clock = lambda: dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    _note(http, "hello")
    assert http.get(f"{P}/issues/1").json()["updated_at"] == "2030-01-01T00:00:00.000Z"


class TestQuickActions:
    def test_commands_only_note_is_202_and_not_stored(
        self, http: Http, issue: dict[str, Any]
    ) -> None:
        """doc/api/notes.md: a note made only of quick actions answers 202 with
        ``commands_changes`` and ``summary`` and creates no note."""
        r = _note(http, "/label ~triage::needed\n/close")
        assert r.status_code == 202
        body = r.json()
        assert body["commands_changes"]["state_event"] == "close"
        assert len(body["commands_changes"]["add_label_ids"]) == 1
        assert body["summary"] == ["Added ~triage::needed label.", "Closed this issue."]
        state = http.get(f"{P}/issues/1").json()
        assert (state["state"], state["labels"]) == ("closed", ["triage::needed"])
        assert [n for n in http.get(f"{P}/issues/1/notes").json() if not n["system"]] == []

    @pytest.mark.usefixtures("members")
    def test_mixed_note_keeps_text_and_runs_commands(
        self, http: Http, issue: dict[str, Any]
    ) -> None:
        """doc/user/project/quick_actions.md: command lines are removed, the rest stays."""
        r = _note(http, 'Please look.\n/label ~"two words"\n/assign @alice\nThanks')
        assert r.status_code == 201
        assert r.json()["body"] == "Please look.\nThanks"
        state = http.get(f"{P}/issues/1").json()
        assert state["labels"] == ["two words"]
        assert [a["username"] for a in state["assignees"]] == ["alice"]

    @pytest.mark.edition("premium")
    def test_scoped_label_via_quick_action(self, http: Http, issue: dict[str, Any]) -> None:
        """doc/user/project/labels.md (Premium): the scoped rule applies to /label too."""
        _note(http, "/label ~triage::needed")
        _note(http, "/label ~triage::open")
        assert http.get(f"{P}/issues/1").json()["labels"] == ["triage::open"]
        _note(http, "/unlabel ~triage::open")
        assert http.get(f"{P}/issues/1").json()["labels"] == []

    def test_description_quick_actions_on_create_and_update(self, http: Http) -> None:
        """doc/user/project/quick_actions.md: descriptions run commands on create/update."""
        http.post(f"{P}/labels", json={"name": "x", "color": "#111111"})
        created = http.post(
            f"{P}/issues",
            json={"title": "t", "description": "Body\n/label ~x\n/due 2026-02-03\n/confidential"},
        ).json()
        assert created["description"] == "Body"
        assert created["labels"] == ["x"]
        assert created["due_date"] == "2026-02-03"
        assert created["confidential"] is True
        updated = http.put(
            f"{P}/issues/{created['iid']}", json={"description": "New\n/close"}
        ).json()
        assert (updated["description"], updated["state"]) == ("New", "closed")
        reopened = http.put(f"{P}/issues/{created['iid']}", json={"description": "/reopen"}).json()
        assert (reopened["description"], reopened["state"]) == ("", "opened")

    def test_close_on_create_has_no_effect(self, http: Http) -> None:
        """/close needs an existing open issue: on create it is removed but does nothing."""
        created = http.post(f"{P}/issues", json={"title": "t", "description": "/close"}).json()
        assert (created["state"], created["description"]) == ("opened", "")

    @pytest.mark.parametrize(
        "body",
        [
            "```\n/close\n```",
            ">>>\n/close\n>>>",
            " /close",
            "`/close`",
            "text /close",
            "/closed",
            "<details>\n/close\n</details>",
        ],
    )
    def test_text_that_is_not_a_command(self, http: Http, issue: dict[str, Any], body: str) -> None:
        """doc/user/project/quick_actions.md: only a line starting with a known command,
        outside code blocks, quotes and HTML blocks, is a command."""
        r = _note(http, body)
        assert r.status_code == 201
        assert r.json()["body"] == body
        assert http.get(f"{P}/issues/1").json()["state"] == "opened"

    def test_tilde_fence_does_not_protect(self, http: Http, issue: dict[str, Any]) -> None:
        """GitLab's extractor treats only ``` fences as code; ~~~ does not hide a command."""
        _note(http, "~~~\n/close\n~~~")
        assert http.get(f"{P}/issues/1").json()["state"] == "closed"

    def test_unknown_user_cannot_be_assigned(self, http: Http, issue: dict[str, Any]) -> None:
        r = _note(http, "/assign @nobody")
        assert r.status_code == 400
        assert "Could not apply assign command." in r.json()["message"]

    def test_extract_unit(self) -> None:
        text, commands = extract('a\n/LABEL ~x ~"y z"\n/unknown thing\n/close\n')
        assert commands == [("label", '~x ~"y z"'), ("close", "")]
        assert text == "a\n/unknown thing"


class TestMentions:
    def test_mentions_recorded_for_existing_users(
        self, sb: Sandbox, http: Http, issue: dict[str, Any]
    ) -> None:
        """doc/user/discussions/_index.md "Mentions": @user and @all notify."""
        _note(http, "Hi @alice and @nobody, also @all. Mail bob@example.com")
        assert [(m["username"], m["noteable_iid"], m["source"]) for m in sb.mentions] == [
            ("alice", 1, "note"),
            ("all", 1, "note"),
        ]
        assert sb.mentions[0]["project"] == "customer-success/accounts"

    def test_code_and_comments_do_not_mention(
        self, sb: Sandbox, http: Http, issue: dict[str, Any]
    ) -> None:
        _note(http, "`@alice`\n```\n@bob\n```\n<!-- @carol -->\n    @alice indented")
        assert sb.mentions == []

    def test_description_edit_records_only_new_mentions(self, sb: Sandbox, http: Http) -> None:
        http.post(f"{P}/issues", json={"title": "t", "description": "cc @alice"})
        http.put(f"{P}/issues/1", json={"description": "cc @alice @bob"})
        assert [m["username"] for m in sb.mentions] == ["alice", "bob"]

    def test_title_mentions_count(self, sb: Sandbox, http: Http) -> None:
        """Issue titles are mentionable too (doc/user/discussions/_index.md)."""
        http.post(f"{P}/issues", json={"title": "For @carol", "description": "and @carol"})
        assert [m["username"] for m in sb.mentions] == ["carol"]

    def test_mentioned_names_unit(self) -> None:
        assert mentioned_names("@a.b, (@c-d) x@y @e.") == ["a.b", "c-d", "e"]


class TestMergeRequests:
    def test_helper_changes_diffs_and_notes(
        self, sb: Sandbox, gl: gitlab.Gitlab, http: Http
    ) -> None:
        """doc/api/merge_requests.md: get, /changes, /diffs; doc/api/notes.md MR notes."""
        created = sb.create_merge_request(
            "customer-success/accounts",
            iid=7,
            title="Template update",
            changes=[{"old_path": "t.md", "new_path": "t.md", "diff": "@@ -1 +1 @@\n-a\n+b\n"}],
        )
        assert created["iid"] == 7
        project = gl.projects.get("customer-success/accounts")
        mr = project.mergerequests.get(7)
        assert mr.title == "Template update"
        changes = mr.changes()
        assert changes["changes"][0]["diff"].startswith("@@")
        diffs = http.get(f"{P}/merge_requests/7/diffs").json()
        assert diffs[0]["new_path"] == "t.md"
        note = mr.notes.create({"body": "LGTM"})
        assert note.noteable_type == "MergeRequest"
        assert [n.body for n in mr.notes.list()] == ["LGTM"]
        note.body = "LGTM!"
        note.save()
        assert mr.notes.get(note.id).body == "LGTM!"
        assert sb.create_merge_request("customer-success/accounts", title="next")["iid"] == 8
