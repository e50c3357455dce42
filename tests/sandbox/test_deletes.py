"""DELETE routes answer 204 with GitLab's permission rules; PUT of a board list; a
milestone's issues.

Each test names the spec example of gitlabhq/gitlabhq it follows."""

from __future__ import annotations

from gl_csm.sandbox import Sandbox

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _as(sb: Sandbox, username: str, level: int | None = None) -> Http:
    """An Http client with ``username``'s own token (Developer etc. when ``level``)."""
    from gl_csm.sandbox.members import add_member

    user = sb.add_user_token(username, f"tok-{username}")
    if level is not None:
        add_member(sb.store, sb.store.project("customer-success/accounts"), user["id"], level, 1)
    client = Http(sb)
    client.session.headers["PRIVATE-TOKEN"] = f"tok-{username}"
    return client


def _req(client: Http, method: str, path: str, **kw: object):  # type: ignore[no-untyped-def]
    return client.session.request(method, "https://sandbox.test/api/v4" + path, **kw)


def test_delete_issue_is_for_owners(sb: Sandbox, http: Http) -> None:
    """spec/requests/api/issues/issues_spec.rb "DELETE /projects/:id/issues/:issue_iid":
    ``it 'rejects a non owner'`` (403), ``it 'deletes the issue if an admin requests
    it'`` (204), ``it 'returns 404 when trying to delete an issue'`` of an unknown iid."""
    iid = http.post(f"{P}/issues", json={"title": "gone"}).json()["iid"]
    dev = _as(sb, "dora", 30)
    assert _req(dev, "DELETE", f"{P}/issues/{iid}").status_code == 403
    r = http.delete(f"{P}/issues/{iid}")
    assert (r.status_code, r.content) == (204, b"")
    assert http.get(f"{P}/issues/{iid}").status_code == 404
    r = http.delete(f"{P}/issues/{iid}")
    assert (r.status_code, r.json()) == (404, {"message": "404 Issue Not Found"})


def test_delete_member_self_or_maintainer(sb: Sandbox, http: Http) -> None:
    """spec/requests/api/members_spec.rb "DELETE /:source_type/:id/members/:user_id":
    ``it 'deletes the member'`` (204, also ``when authenticated as a member and
    deleting themself``), ``it 'returns 403'`` for a member without rights, ``it
    'returns 404 if member does not exist'``."""
    dev = _as(sb, "dora", 30)
    other = _as(sb, "olga", 30)
    olga = sb.store.user_by_username("olga")
    dora = sb.store.user_by_username("dora")
    assert olga is not None and dora is not None
    assert _req(dev, "DELETE", f"{P}/members/{olga['id']}").status_code == 403
    assert _req(other, "DELETE", f"{P}/members/{olga['id']}").status_code == 204
    r = http.delete(f"{P}/members/{dora['id']}")
    assert (r.status_code, r.content) == (204, b"")
    r = http.delete(f"{P}/members/{dora['id']}")
    assert (r.status_code, r.json()) == (404, {"message": "404 Not found"})


def test_delete_note_author_or_maintainer(sb: Sandbox, http: Http) -> None:
    """spec/support/shared_examples/requests/api/notes_shared_examples.rb "DELETE
    /projects/:id/noteable/:noteable_id/notes/:note_id": ``it 'deletes a note'`` (204),
    ``it 'returns a 404 error when note id not found'``; NotePolicy: only the author
    edits a note."""
    iid = http.post(f"{P}/issues", json={"title": "t"}).json()["iid"]
    dev = _as(sb, "dora", 30)
    mine = _req(dev, "POST", f"{P}/issues/{iid}/notes", json={"body": "mine"}).json()
    bots = http.post(f"{P}/issues/{iid}/notes", json={"body": "bot's"}).json()
    assert (
        _req(dev, "PUT", f"{P}/issues/{iid}/notes/{bots['id']}", json={"body": "x"}).status_code
        == 403
    )
    assert _req(dev, "DELETE", f"{P}/issues/{iid}/notes/{bots['id']}").status_code == 403
    assert _req(dev, "DELETE", f"{P}/issues/{iid}/notes/{mine['id']}").status_code == 204
    assert http.delete(f"{P}/issues/{iid}/notes/{bots['id']}").status_code == 204
    r = http.delete(f"{P}/issues/{iid}/notes/{bots['id']}")
    assert (r.status_code, r.json()) == (404, {"message": "404 Note Not Found"})


def test_delete_milestone_and_its_issues(http: Http) -> None:
    """spec/requests/api/project_milestones_spec.rb "DELETE
    /projects/:id/milestones/:milestone_id": ``it 'deletes the milestone when the user
    has developer access to the project'`` (204), ``it 'returns 404 response when the
    project does not exist'``; "GET /projects/:id/milestones/:milestone_id/issues"
    (milestones_shared_examples.rb ``it 'returns issues for a particular milestone'``)."""
    ms = http.post(f"{P}/milestones", json={"title": "Q1"}).json()
    iid = http.post(f"{P}/issues", json={"title": "in Q1", "milestone_id": ms["id"]}).json()["iid"]
    http.post(f"{P}/issues", json={"title": "none"})
    listed = http.get(f"{P}/milestones/{ms['id']}/issues").json()
    assert [i["title"] for i in listed] == ["in Q1"]
    assert http.delete(f"{P}/milestones/{ms['id']}").status_code == 204
    assert http.get(f"{P}/issues/{iid}").json()["milestone"] is None
    assert http.delete(f"{P}/milestones/{ms['id']}").status_code == 404
    assert http.delete("/projects/nope%2Fnope/milestones/1").status_code == 404


def test_board_list_move_and_delete(http: Http) -> None:
    """spec/support/shared_examples/requests/api/boards_shared_examples.rb: "PUT
    /boards/:board_id/lists/:list_id to update only position" (``it "updates a list"``)
    and "DELETE /boards/lists/:list_id" (``it "deletes list if admin requests it"``,
    204)."""
    board = http.post(f"{P}/boards", json={"name": "b"}).json()
    ids = []
    for name in ("a", "b", "c"):
        label = http.post(f"{P}/labels", json={"name": name, "color": "#123456"}).json()
        made = http.post(f"{P}/boards/{board['id']}/lists", json={"label_id": label["id"]})
        ids.append(made.json()["id"])
    lists = f"{P}/boards/{board['id']}/lists"
    r = http.put(f"{lists}/{ids[2]}", json={"position": 0})
    assert (r.status_code, r.json()["position"]) == (200, 0)
    assert [x["id"] for x in http.get(lists).json()] == [ids[2], ids[0], ids[1]]
    assert http.delete(f"{lists}/{ids[0]}").status_code == 204
    assert [(x["id"], x["position"]) for x in http.get(lists).json()] == [
        (ids[2], 0),
        (ids[1], 1),
    ]
    assert http.put(f"{lists}/{ids[1]}", json={}).json() == {"error": "position is missing"}
