"""Answer shapes and parameter parsing as GitLab's entities and request specs say."""

from __future__ import annotations

import datetime as dt

from gl_csm.sandbox import Sandbox

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def test_group_detail_fields(http: Http) -> None:
    """lib/api/entities/group_detail.rb (``shared_with_groups``, ``runners_token`` for its
    administrators, ``prevent_sharing_groups_outside_hierarchy`` on a root group,
    ``projects``/``shared_projects`` with ``with_projects``, default true in
    lib/api/groups.rb); spec/requests/api/groups_spec.rb "GET /groups/:id" ``it 'returns
    one of user1's groups'`` (``shared_with_groups``, ``projects``)."""
    group = http.get("/groups/customer-success").json()
    assert group["shared_with_groups"] == [] and group["shared_projects"] == []
    assert [p["path"] for p in group["projects"]] == ["accounts"]
    assert group["prevent_sharing_groups_outside_hierarchy"] is False
    assert "runners_token" in group and group["project_creation_level"] == "developer"
    bare = http.get("/groups/customer-success", params={"with_projects": "false"}).json()
    assert "projects" not in bare and bare["shared_with_groups"] == []
    sub = http.get("/groups/account-management%2Fcustomers").json()
    assert "prevent_sharing_groups_outside_hierarchy" not in sub
    assert http.put("/groups/customer-success", json={"description": "d"}).json()["projects"]


def test_nested_form_parameters_as_rack_parses_them(http: Http) -> None:
    """doc/api/commits.md "Create a commit with multiple files and actions" sent as a form
    (``actions[][action]=create&actions[][file_path]=...``, and with indexes, as
    ruby-gitlab sends it): Rack nests them, Grape coerces them to an Array."""
    form = [
        ("branch", "main"),
        ("commit_message", "two files"),
        ("actions[][action]", "create"),
        ("actions[][file_path]", "a.md"),
        ("actions[][content]", "A"),
        ("actions[][action]", "create"),
        ("actions[][file_path]", "b.md"),
        ("actions[][content]", "B"),
    ]
    r = http.post(f"{P}/repository/commits", data=form)
    assert r.status_code == 201, r.text
    indexed = [
        ("branch", "main"),
        ("commit_message", "indexed"),
        ("actions[1][action]", "create"),
        ("actions[1][file_path]", "d.md"),
        ("actions[1][content]", "D"),
        ("actions[0][action]", "create"),
        ("actions[0][file_path]", "c.md"),
        ("actions[0][content]", "C"),
    ]
    assert http.post(f"{P}/repository/commits", data=indexed).status_code == 201
    tree = {e["path"] for e in http.get(f"{P}/repository/tree", params={"ref": "main"}).json()}
    assert {"a.md", "b.md", "c.md", "d.md"} <= tree


def test_missing_description_is_null(http: Http) -> None:
    """spec/requests/api/issues/post_projects_issues_spec.rb ``it 'creates a new project
    issue'`` and milestones_shared_examples.rb ``it 'creates a new milestone'``:
    ``expect(json_response['description']).to be_nil``."""
    assert http.post(f"{P}/issues", json={"title": "t"}).json()["description"] is None
    assert http.post(f"{P}/milestones", json={"title": "m"}).json()["description"] is None


def test_single_issue_links_and_subscribed(http: Http) -> None:
    """lib/api/entities/issue.rb: ``_links`` (self, notes, award_emoji, project) on every
    issue; ``subscribed`` only on a single one (lists: ``include_subscribed: false``);
    the author takes part, so is subscribed (Subscribable, Participable)."""
    made = http.post(f"{P}/issues", json={"title": "t"}).json()
    pid = made["project_id"]
    api = f"https://sandbox.test/api/v4/projects/{pid}"
    assert made["_links"] == {
        "self": f"{api}/issues/{made['iid']}",
        "notes": f"{api}/issues/{made['iid']}/notes",
        "award_emoji": f"{api}/issues/{made['iid']}/award_emoji",
        "project": api,
        "closed_as_duplicate_of": None,
    }
    assert made["subscribed"] is True
    assert http.get(f"{P}/issues/{made['iid']}").json()["subscribed"] is True
    listed = http.get(f"{P}/issues").json()[0]
    assert "subscribed" not in listed and listed["_links"] == made["_links"]


def test_invalid_updated_at_is_refused(http: Http) -> None:
    """lib/api/issues.rb ``optional :updated_at, type: DateTime``: Grape's coercion answers
    ``updated_at is invalid``; a valid one is kept for an administrator or Owner
    (put_projects_issues_spec.rb ``it 'accepts the update date to be set'``)."""
    iid = http.post(f"{P}/issues", json={"title": "t"}).json()["iid"]
    r = http.put(f"{P}/issues/{iid}", json={"title": "u", "updated_at": "yesterday-ish"})
    assert (r.status_code, r.json()) == (400, {"error": "updated_at is invalid"})
    r = http.put(f"{P}/issues/{iid}", json={"title": "u", "updated_at": "2020-01-02T03:04:05Z"})
    assert r.json()["updated_at"] == "2020-01-02T03:04:05.000Z"


def test_several_members_in_one_post(sb: Sandbox, http: Http) -> None:
    """lib/api/members.rb: ``user_id`` with commas goes to Members::CreateService, whose
    result is the answer: members_spec.rb "when executing the Members::CreateService for
    multiple user_ids", ``it 'returns success when it successfully create all
    members'`` (201, ``{"status": "success"}``) and ``it 'returns the error message if
    there was an error adding members to group'`` (``"status": "error"``)."""
    ids = [sb.store.user_by_username(n)["id"] for n in ("alice", "bob")]  # type: ignore[index]
    r = http.post(f"{P}/members", json={"user_id": f"{ids[0]},{ids[1]}", "access_level": 30})
    assert (r.status_code, r.json()) == (201, {"status": "success"})
    assert {m["id"] for m in http.get(f"{P}/members").json()} == set(ids)
    r = http.post(f"{P}/members", json={"user_id": f"{ids[0]},999999", "access_level": 30})
    assert r.json() == {"status": "error", "message": "Unable to find User ID"}


def test_past_expires_at_is_refused(sb: Sandbox, http: Http) -> None:
    """Member ``validates :expires_at, future_date: true`` (app/validators/
    future_date_validator.rb): members_spec.rb "access expiry date", "when set to a date
    in the past", ``it 'does not create a member'``: 400 ``{"expires_at": ["cannot be a
    date in the past"]}``."""
    alice = sb.store.user_by_username("alice")
    assert alice is not None
    past = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    r = http.post(
        f"{P}/members", json={"user_id": alice["id"], "access_level": 30, "expires_at": past}
    )
    assert (r.status_code, r.json()) == (
        400,
        {"message": {"expires_at": ["cannot be a date in the past"]}},
    )
    r = http.post(
        f"{P}/members", json={"user_id": alice["id"], "access_level": 30, "expires_at": "nope"}
    )
    assert r.json() == {"error": "expires_at is invalid"}


def test_blank_note_body(http: Http) -> None:
    """lib/api/notes.rb: POST ``requires :body, type: String`` lets a blank body reach the
    Note model: ``400 Bad request - Note {:note=>["can't be blank"]}``
    (notes_helpers.rb); PUT has ``allow_blank: false``: ``body is empty``."""
    iid = http.post(f"{P}/issues", json={"title": "t"}).json()["iid"]
    r = http.post(f"{P}/issues/{iid}/notes", json={"body": "   "})
    assert (r.status_code, r.json()) == (
        400,
        {"message": '400 Bad request - Note {:note=>["can\'t be blank"]}'},
    )
    assert http.post(f"{P}/issues/{iid}/notes", json={}).json() == {"error": "body is missing"}
    note = http.post(f"{P}/issues/{iid}/notes", json={"body": "x"}).json()
    r = http.put(f"{P}/issues/{iid}/notes/{note['id']}", json={"body": ""})
    assert r.json() == {"error": "body is empty"}
