"""Two reactions for one account a second apart open one triage issue.

Three layers: GitLab serialises the CI jobs (``resource_group``, doc/ci/resource_groups/
_index.md), ``gl-csm serve`` runs one worker, and the create re-reads by marker first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gl_csm.services.react import plan_react
from tests.conftest import ROOT
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, TRIAGE, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_two_interleaved_reactions_open_one_triage_issue(world: World) -> None:
    world.add("acme", "Acme")
    world.run()
    tracking = next(i for i in world.issues(ACCOUNTS) if "tracking:acme" in i["description"])
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="triage::needed")
    fresh = world.person().issue(ACCOUNTS, tracking["iid"])
    first = issue_hook(ACCOUNTS, fresh, added=["triage::needed"])
    # A second label edit a second later: another delivery, another pipeline.
    second = issue_hook(ACCOUNTS, fresh, added=["triage::needed"])
    second["object_attributes"]["updated_at"] = "2026-11-23 09:00:01 UTC"
    a = plan_react(world.gateway, world.settings, world.today, first)
    b = plan_react(world.gateway, world.settings, world.today, second)
    assert a.plan.apply(world.gateway).exit_code == 0
    assert b.plan.apply(world.gateway).exit_code == 0
    opened = [i for i in world.issues(TRIAGE, state="opened") if "triage:acme" in i["description"]]
    assert len(opened) == 1


def test_react_job_is_serialised_by_a_resource_group() -> None:
    job = yaml.safe_load((ROOT / "ci" / "react.yml").read_text())["react"]
    assert job["resource_group"]
    assert job["interruptible"] is False
