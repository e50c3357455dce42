"""``GET /groups/:id/milestones`` (doc/api/group_milestones.md "List group milestones",
GitLab Free): lib/api/group_milestones.rb, lib/api/milestone_responses.rb,
lib/api/concerns/milestones/group_project_params.rb, app/finders/milestones_finder.rb;
spec examples from spec/requests/api/group_milestones_spec.rb and
spec/support/shared_examples/requests/api/milestones_shared_examples.rb ('group
milestones including ancestors and descendants'), named per test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.members import add_member

from .conftest import Http

G = "/groups/account-management"


def _as(sb: Sandbox, token: str, path: str, **params: object) -> requests.Response:
    """A GET with a user's token (Http sends the bot's)."""
    session = requests.Session()
    session.mount("https://sandbox.test", SandboxAdapter(sb))
    return session.get(
        f"https://sandbox.test/api/v4{path}", headers={"PRIVATE-TOKEN": token}, params=params
    )


def _ids(http: Http, path: str = G, **params: object) -> list[int]:
    r = http.get(f"{path}/milestones", params=params)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()]


def _project_milestone(http: Http, project: str, title: str, **fields: object) -> dict:
    enc = project.replace("/", "%2F")
    r = http.post(f"/projects/{enc}/milestones", json={"title": title, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def _group_milestone(http: Http, group: str, title: str, **fields: object) -> dict:
    r = http.post(
        f"/groups/{group.replace('/', '%2F')}/milestones", json={"title": title, **fields}
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def tree(sb: Sandbox, http: Http) -> dict[str, dict]:
    """account-management (group milestone), its subgroup customers (group milestone)
    and a project in it (project milestone)."""
    sb.seed(projects=[("account-management/customers/acme", "private")])
    return {
        "own": _group_milestone(http, "account-management", "FY27"),
        "sub": _group_milestone(http, "account-management/customers", "Q1"),
        "project": _project_milestone(
            http, "account-management/customers/acme", "Infrastructure ready"
        ),
    }


def test_without_include_descendants_only_the_groups_own(tree: dict, http: Http) -> None:
    """milestones_shared_examples.rb "when including neither ancestor nor descendant
    milestones in a public group": only the group's own (``{ group_ids: parent.id }``);
    the entity carries ``group_id``, no ``project_id`` (lib/api/entities/milestone.rb)."""
    assert _ids(http) == [tree["own"]["id"]]
    own = http.get(f"{G}/milestones").json()[0]
    assert "project_id" not in own
    assert own["web_url"] == "https://sandbox.test/groups/account-management/-/milestones/1"
    assert set(own) == {
        "id", "iid", "group_id", "title", "description", "state", "created_at",
        "updated_at", "due_date", "start_date", "expired", "web_url",
    }  # fmt: skip


def test_include_descendants_adds_subgroups_and_projects(tree: dict, http: Http) -> None:
    """doc/api/group_milestones.md ``include_descendants`` (GitLab 16.7): the group's, its
    subgroups' and its projects' milestones; a project milestone carries ``project_id``
    and a ``web_url`` in its project (doc/api/milestones.md example response)."""
    found = http.get(f"{G}/milestones", params={"include_descendants": "true"}).json()
    assert sorted(m["id"] for m in found) == sorted(m["id"] for m in tree.values())
    project = next(m for m in found if m["id"] == tree["project"]["id"])
    assert "group_id" not in project and isinstance(project["project_id"], int)
    assert project["web_url"] == (
        "https://sandbox.test/account-management/customers/acme/-/milestones/1"
    )


def test_include_descendants_only_what_the_user_can_see(sb: Sandbox, http: Http) -> None:
    """milestones_shared_examples.rb "when including descendant milestones in a public
    group": ``it 'finds milestones only in accessible projects and groups'`` (a private
    subgroup the user is not in, a private project the user is not in are left out)."""
    top = "account-management"
    http.post("/groups", json={"name": "Open", "path": "open", "parent_id": _gid(sb, top)})
    http.post("/groups", json={"name": "Closed", "path": "closed", "parent_id": _gid(sb, top)})
    sb.seed(
        projects=[(f"{top}/open/seen", "private"), (f"{top}/unseen", "private")],
        users=["dana"],
    )
    dana = sb.store.user_by_username("dana")
    assert dana is not None
    add_member(sb.store, sb.store.group(f"{top}/open"), dana["id"], 30, sb.bot_user_id)
    m1 = _group_milestone(http, top, "m1")
    m2 = _group_milestone(http, f"{top}/open", "m2")
    m3 = _project_milestone(http, f"{top}/open/seen", "m3")
    _group_milestone(http, f"{top}/closed", "m4")
    _project_milestone(http, f"{top}/unseen", "m5")
    sb.add_user_token("dana", "tok-d")
    seen = _as(sb, "tok-d", f"{G}/milestones", include_descendants="true").json()
    assert sorted(m["id"] for m in seen) == sorted(m["id"] for m in (m1, m2, m3))
    assert [m["id"] for m in _as(sb, "tok-d", f"{G}/milestones").json()] == [m1["id"]]


def _gid(sb: Sandbox, path: str) -> int:
    return int(sb.store.group(path)["id"])


def test_a_group_the_user_cannot_read_is_404(sb: Sandbox, http: Http) -> None:
    """lib/api/helpers.rb ``find_group!``: ``404 Group Not Found`` (policy.py)."""
    http.post("/groups", json={"name": "Secret", "path": "secret"})
    sb.add_user_token("stranger", "tok-s")
    r = _as(sb, "tok-s", "/groups/secret/milestones")
    assert (r.status_code, r.json()) == (404, {"message": "404 Group Not Found"})
    assert http.get("/groups/nowhere/milestones").status_code == 404


def test_state_title_search_and_iids(tree: dict, http: Http) -> None:
    """doc/api/group_milestones.md: ``state`` (active/closed), ``title`` (exact,
    case-sensitive), ``search`` (title or description, case-insensitive), ``iids[]``."""
    pid = tree["project"]["project_id"]
    http.put(f"/projects/{pid}/milestones/{tree['project']['id']}", json={"state_event": "close"})
    every = {"include_descendants": "true"}
    assert _ids(http, **every, state="closed") == [tree["project"]["id"]]
    assert tree["project"]["id"] not in _ids(http, **every, state="active")
    assert _ids(http, **every, title="Q1") == [tree["sub"]["id"]]
    assert _ids(http, **every, title="q1") == []
    assert _ids(http, **every, search="INFRA") == [tree["project"]["id"]]
    r = http.get(f"{G}/milestones", params={"iids[]": [1]})
    assert [m["id"] for m in r.json()] == [tree["own"]["id"]]
    assert http.get(f"{G}/milestones", params={"state": "opened"}).status_code == 400


def test_updated_before_and_after(sb: Sandbox, http: Http) -> None:
    """group_milestones_spec.rb "when updated_before param is present" / "when
    updated_after param is present": the milestone updated 4 days ago is before, the one
    updated now after (UpdatedAtFilterable, both inclusive)."""
    moments: Iterator[dt.datetime] = iter(
        [dt.datetime(2026, 11, 19, 9, tzinfo=dt.UTC), dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)]
    )
    now = {"t": next(moments)}
    sb.store.clock = lambda: now["t"]
    old = _group_milestone(http, "account-management", "version2")
    now["t"] = next(moments)
    new = _group_milestone(http, "account-management", "version1")
    day_ago = "2026-11-22T09:00:00Z"
    assert _ids(http, updated_before=day_ago) == [old["id"]]
    assert _ids(http, updated_after=day_ago) == [new["id"]]
    assert _ids(http, updated_after="2026-11-23T09:00:00Z") == [new["id"]]  # inclusive
    assert http.get(f"{G}/milestones", params={"updated_after": "soon"}).status_code == 400


def test_order_due_date_nulls_last_then_newest(sb: Sandbox, http: Http) -> None:
    """MilestonesFinder ``due_date_asc`` (Milestone.sort_by_attribute: due date nulls
    last, then ``with_order_id_desc``): group_milestones_spec.rb lists
    [ancestor_group_milestone, milestone, closed_milestone], newest first."""
    a = _group_milestone(http, "account-management", "a")
    b = _group_milestone(http, "account-management", "b", due_date="2027-03-01")
    c = _group_milestone(http, "account-management", "c")
    d = _group_milestone(http, "account-management", "d", due_date="2027-01-01")
    assert _ids(http) == [d["id"], b["id"], c["id"], a["id"]]


def test_include_ancestors_and_its_deprecated_name(sb: Sandbox, http: Http) -> None:
    """group_milestones_spec.rb "when include_ancestors is true": the parent's
    milestones too, ``include_parent_milestones`` the same; both at once 400; ``iids``
    ignored with ``include_ancestors`` (doc/api/group_milestones.md)."""
    parent = _group_milestone(http, "account-management", "parent")
    own = _group_milestone(http, "account-management/customers", "own")
    path = "/groups/account-management%2Fcustomers"
    assert _ids(http, path) == [own["id"]]
    both = [own["id"], parent["id"]]
    assert _ids(http, path, include_ancestors="true") == both
    assert _ids(http, path, include_parent_milestones="true") == both
    assert _ids(http, path, include_ancestors="true", **{"iids[]": [1]}) == both
    r = http.get(
        f"{path}/milestones",
        params={"include_ancestors": "true", "include_parent_milestones": "true"},
    )
    assert r.status_code == 400


def test_paginated_like_every_listing(sb: Sandbox, http: Http) -> None:
    """doc/api/rest/_index.md "Offset-based pagination" (pagination.py)."""
    for i in range(3):
        _group_milestone(http, "account-management", f"m{i}")
    r = http.get(f"{G}/milestones", params={"per_page": 2})
    assert len(r.json()) == 2 and r.headers["X-Total"] == "3" and r.headers["X-Next-Page"] == "2"


def test_titles_unique_between_a_group_and_its_projects(sb: Sandbox, http: Http) -> None:
    """Milestone#uniqueness_of_title: ``already being used for another group or project
    milestone.``, from the group or from the project."""
    sb.seed(projects=[("account-management/acme", "private")])
    _group_milestone(http, "account-management", "FY27")
    r = http.post("/projects/account-management%2Facme/milestones", json={"title": "FY27"})
    assert r.status_code == 400 and "already being used" in r.json()["message"]
    _project_milestone(http, "account-management/acme", "Kickoff")
    r = http.post(f"{G}/milestones", json={"title": "Kickoff"})
    assert r.status_code == 400 and "already being used" in r.json()["message"]


def test_python_gitlab_lists_them(sb: Sandbox, tree: dict) -> None:
    """python-gitlab ``group.milestones.list(include_descendants=True)``, as the gateway
    reads them."""
    import gitlab

    client = gitlab.Gitlab("https://sandbox.test", private_token="t")
    client.session.mount("https://sandbox.test", SandboxAdapter(sb))
    group = client.groups.get("account-management")
    titles = {m.title for m in group.milestones.list(include_descendants=True, get_all=True)}
    assert titles == {"FY27", "Q1", "Infrastructure ready"}


def test_group_milestones_survive_the_state_file(tmp_path: Path) -> None:
    """The state file keeps a group's milestones, and ids stay unique after a reload
    (store.py raises the milestone counter over every stored one)."""
    path = tmp_path / "sandbox.json"
    sb = Sandbox.load(path)
    sb.seed(projects=[("account-management/acme", "private")])
    first = _group_milestone(Http(sb), "account-management", "FY27")
    sb.save()
    again = Sandbox.load(path)
    http = Http(again)
    assert _ids(http) == [first["id"]]
    made = _project_milestone(http, "account-management/acme", "Kickoff")
    assert made["id"] > first["id"]
