"""A registry merge request closed without merging: the next job resets the branch onto
the default branch (its edits are not replayed) and says so, in its line and in the new
merge request (doc/api/merge_requests.md "Update MR" ``state_event: close``)."""

from __future__ import annotations

from pathlib import Path

from gl_csm.services.registry_commit import BRANCH, Edit, commit_registry
from tests.services.triage_world import World

OPS = "ops/cs-ops"
OLD = "name: Tyrell\nteam: {csm: alice}\nproject: g/pre/tyrell\n"


def _ops(world: World) -> None:
    gw = world.gateway
    group = gw.gl.http_post("/groups", post_data={"name": "ops", "path": "ops"})
    gw.gl.http_post("/projects", post_data={"namespace_id": group["id"], "path": "cs-ops"})
    gw.commit(
        OPS,
        "main",
        "registry",
        [{"action": "create", "file_path": "accounts/tyrell.yml", "content": OLD}],
        "gl-csm:test:seed",
    )


def test_a_closed_unmerged_merge_request_is_named_when_its_edits_are_dropped(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    _ops(world)
    gw = world.gateway
    first = Edit(OLD, OLD.replace("csm: alice", "csm: erin"))
    line = commit_registry(gw, OPS, {"accounts/tyrell.yml": first}, "handoff")
    assert "opened" in line and "closed without merging" not in line
    mr = gw.merge_requests(OPS, state="opened", source_branch=BRANCH)[0]
    gw.gl.http_put(
        f"/projects/ops%2Fcs-ops/merge_requests/{mr['iid']}", post_data={"state_event": "close"}
    )

    second = Edit(OLD, OLD.replace("g/pre/tyrell", "g/post/tyrell"))
    line = commit_registry(gw, OPS, {"accounts/tyrell.yml": second}, "promote")
    assert f"merge request !{mr['iid']} was closed without merging" in line
    again = gw.merge_requests(OPS, state="opened", source_branch=BRANCH)
    assert len(again) == 1
    assert f"!{mr['iid']} was closed without merging" in again[0]["description"]
    text = gw.file_text(OPS, "accounts/tyrell.yml", BRANCH)
    assert text is not None and "csm: alice" in text and "g/post/tyrell" in text  # dropped, said


def test_a_merged_merge_request_is_not_reported_as_dropped(tmp_path: Path) -> None:
    world = World(tmp_path)
    _ops(world)
    gw = world.gateway
    commit_registry(
        gw, OPS, {"accounts/tyrell.yml": Edit(OLD, OLD.replace("alice", "erin"))}, "handoff"
    )
    mr = gw.merge_requests(OPS, state="opened", source_branch=BRANCH)[0]
    # Merged in GitLab's UI, the source branch kept (the sandbox has no merge route).
    world.sandbox.store.project(OPS)["merge_requests"][mr["iid"]]["state"] = "merged"
    line = commit_registry(
        gw, OPS, {"accounts/tyrell.yml": Edit(OLD, OLD.replace("pre", "post"))}, "promote"
    )
    assert "closed without merging" not in line
