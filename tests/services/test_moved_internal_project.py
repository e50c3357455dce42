"""An internal project moved or renamed without updating ``gl-csm.yml``.

GitLab 16.7+ (lib/api/helpers.rb ``find_project!``, ``project_moved?``): a GET by the
old path answers 301 to ``/api/v4/projects/:id/...`` (python-gitlab follows it), any
other method 405 "Non GET methods are not allowed for moved projects". The gateway reads
the project once by its old path (following the 301), then reads and writes it by id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gl_csm.errors import GitLabError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import SandboxAdapter
from tests.services.triage_world import ACCOUNTS, RED, TRIAGE, World


def _rename(world: World, path: str, new: str) -> int:
    project = world.sandbox.store.project(path)
    status, _, _ = world.sandbox.handle(
        "PUT",
        f"/api/v4/projects/{project['id']}",
        {"PRIVATE-TOKEN": "t", "Content-Type": "application/json"},
        json.dumps({"path": new}).encode(),
    )
    assert status == 200
    return int(project["id"])


def test_triage_writes_to_moved_internal_projects_by_id(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme", "Acme")
    world.add("initech", "Initech", **RED)
    accounts_id = _rename(world, ACCOUNTS, "accounts-2026")
    triage_id = _rename(world, TRIAGE, "triage-2026")
    outcome, _, first = world.run()
    assert outcome.exit_code == 0, outcome.failures
    assert first.writes > 0
    gw = Gateway.for_transport(SandboxAdapter(world.sandbox))
    titles = {i["title"] for i in gw.issues(accounts_id, state="all")}
    assert {"Acme", "Initech"} <= titles
    assert gw.issues(triage_id, state="all")
    # Learned once per moved project: later requests name it by id, so no write is
    # refused and no read is redirected twice.
    log = world.sandbox.request_log
    by_old_path = [(m, p) for m, p in log if "customer-success%2Faccounts/" in p]
    assert all(m == "GET" for m, _ in by_old_path)
    moved = world.gateway.moved_projects
    assert (moved[ACCOUNTS], moved[TRIAGE]) == (accounts_id, triage_id)
    outcome, _, again = world.run()
    assert outcome.changes == [] and again.writes == 0


def test_a_write_by_an_old_path_never_read_is_resent_by_id(tmp_path: Path) -> None:
    """The first write meets GitLab's 405; the gateway reads the project by the old path
    (one GET, redirected: two requests) and sends the write by id."""
    world = World(tmp_path)
    pid = _rename(world, ACCOUNTS, "accounts-2026")
    gw = Gateway.for_transport(SandboxAdapter(world.sandbox))
    before = gw.stats
    made = gw.create_milestone(ACCOUNTS, "Q1")
    assert made["project_id"] == pid
    after = gw.stats
    # POST (405), GET old path (301), GET by id, POST by id.
    assert (after.reads - before.reads, after.writes - before.writes) == (2, 2)
    gw.create_milestone(ACCOUNTS, "Q2")
    assert (gw.stats.writes - after.writes, gw.stats.reads - after.reads) == (1, 0)
    assert world.sandbox.request_log[-1] == ("POST", f"/api/v4/projects/{pid}/milestones")


def test_a_405_for_a_project_no_redirect_finds_stays_a_failure(tmp_path: Path) -> None:
    """A 405 that is not about a moved project is not retried."""
    world = World(tmp_path)
    world.sandbox.inject("POST", r"/milestones$", 405, {"message": "405 Method Not Allowed"})
    gw = Gateway.for_transport(SandboxAdapter(world.sandbox))
    with pytest.raises(GitLabError, match="GitLab answered 405"):
        gw.create_milestone(ACCOUNTS, "Q1")
    assert gw.moved_projects == {}
