"""Inherited member levels and milestone dates, as GitLab validates them.

Sources: app/models/member.rb (``higher_access_level_than_group``), lib/api/members.rb
(``render_validation_error!``), doc/api/members.md ("List all members of a group or
project including inherited and invited members"), app/models/concerns/timebox.rb
(``start_date_should_be_less_than_due_date``), lib/api/milestone_responses.rb.
"""

from __future__ import annotations

import gitlab

from .conftest import Http

P = "/projects/customer-success%2Faccounts"


def _ids(gl: gitlab.Gitlab, *names: str) -> list[int]:
    return [gl.users.list(username=n)[0].id for n in names]


def test_project_member_below_inherited_level_is_refused(gl: gitlab.Gitlab, http: Http) -> None:
    """Member#higher_access_level_than_group: 400 naming the inherited level and group."""
    alice, bob = _ids(gl, "alice", "bob")
    gl.groups.get("customer-success").members.create({"user_id": alice, "access_level": 30})
    r = http.post(f"{P}/members", json={"user_id": alice, "access_level": 20})
    assert (r.status_code, r.json()) == (
        400,
        {
            "message": {
                "access_level": [
                    "should be greater than or equal to Developer inherited membership "
                    "from group Customer Success"
                ]
            }
        },
    )
    assert http.get(f"{P}/members").json() == []  # nothing was added
    # Equal or higher is fine; a later downgrade below the group level is refused too.
    assert http.post(f"{P}/members", json={"user_id": alice, "access_level": 30}).ok
    r = http.put(f"{P}/members/{alice}", json={"access_level": 10})
    assert r.status_code == 400
    assert "inherited membership from group Customer Success" in str(r.json())
    assert http.post(f"{P}/members", json={"user_id": bob, "access_level": 10}).ok


def test_subgroup_member_below_parent_group_level_is_refused(gl: gitlab.Gitlab, http: Http) -> None:
    """The same rule for a group's members: the highest level in any ancestor group."""
    (alice,) = _ids(gl, "alice")
    top = gl.groups.get("account-management")
    top.members.create({"user_id": alice, "access_level": 40})
    sub = gl.groups.get("account-management/customers")
    r = http.post(f"/groups/{sub.id}/members", json={"user_id": alice, "access_level": 30})
    assert r.status_code == 400
    assert r.json()["message"]["access_level"] == [
        "should be greater than or equal to Maintainer inherited membership from group "
        "Account Management"
    ]


def test_members_all_shows_the_effective_level(gl: gitlab.Gitlab, http: Http) -> None:
    """doc/api/members.md /members/all: each user once, with the highest level held
    directly or through an ancestor group."""
    alice, bob = _ids(gl, "alice", "bob")
    gl.groups.get("customer-success").members.create({"user_id": alice, "access_level": 20})
    http.post(f"{P}/members", json={"user_id": alice, "access_level": 40})
    http.post(f"{P}/members", json={"user_id": bob, "access_level": 30})
    everyone = {m["username"]: m["access_level"] for m in http.get(f"{P}/members/all").json()}
    assert everyone == {"gl-csm-bot": 50, "alice": 40, "bob": 30}
    direct = {m["username"] for m in http.get(f"{P}/members").json()}
    assert direct == {"alice", "bob"}
    assert http.get(f"{P}/members/all/{alice}").json()["access_level"] == 40


def test_milestone_due_date_must_be_after_start_date(http: Http) -> None:
    """Timebox#start_date_should_be_less_than_due_date: due <= start is invalid (equal
    dates too), on create and on update with the stored date."""
    msg = 'Failed to create milestone {:due_date=>["must be greater than start date"]}'
    for due in ("2026-01-01", "2026-01-31"):
        r = http.post(
            f"{P}/milestones",
            json={"title": f"Q{due}", "start_date": "2026-01-31", "due_date": due},
        )
        assert (r.status_code, r.json()) == (400, {"message": msg})
    assert http.get(f"{P}/milestones").json() == []
    ok = http.post(
        f"{P}/milestones",
        json={"title": "Q1", "start_date": "2026-01-01", "due_date": "2026-03-31"},
    )
    assert ok.status_code == 201
    r = http.put(f"{P}/milestones/{ok.json()['id']}", json={"start_date": "2026-04-01"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Failed to update milestone {:due_date=>")
    stored = http.get(f"{P}/milestones/{ok.json()['id']}").json()
    assert (stored["start_date"], stored["due_date"]) == ("2026-01-01", "2026-03-31")
    # Only one date set: nothing to compare.
    assert http.post(f"{P}/milestones", json={"title": "Q2", "due_date": "2026-01-01"}).ok
