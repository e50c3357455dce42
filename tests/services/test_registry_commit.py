"""Registry write-back from CI (services/registry_commit.py): what a job changed is
replayed, key by key, on the branch's version of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gl_csm.config import Settings
from gl_csm.errors import ConfigError
from gl_csm.services.registry_commit import Edit, changed, ops_project, snapshot, wanted

OLD = "# Tyrell\nname: Tyrell\nteam: {csm: alice, sa: bob}\nproject: g/pre/tyrell\n"


def test_edit_replays_only_the_keys_the_job_set() -> None:
    new = OLD.replace("g/pre/tyrell", "g/post/tyrell")
    edit = Edit(OLD, new)
    assert edit.updates() == {"project": "g/post/tyrell"}
    assert edit.replay(OLD) == new  # the branch still has what the checkout had
    # The branch already carries another job's edit (team.csm): it is kept.
    branch = OLD.replace("csm: alice", "csm: erin")
    assert edit.replay(branch) == branch.replace("g/pre/tyrell", "g/post/tyrell")
    assert Edit(None, new).replay(None) == new  # a new file
    nested = Edit(OLD, OLD.replace("csm: alice", "csm: carol"))
    assert nested.updates() == {"team.csm": "carol"}


def test_snapshot_finds_created_and_changed_files(settings: Settings) -> None:
    env = {"CI_PROJECT_DIR": str(settings.accounts_dir.parent)}
    before = snapshot(settings, env)
    acme = settings.accounts_dir / "acme-corp.yml"
    acme.write_text(acme.read_text().replace("arr: 650000", "arr: 1"))
    (settings.accounts_dir / "new-co.yml").write_text("name: New Co\n")
    found = changed(before)
    assert sorted(found) == ["accounts/acme-corp.yml", "accounts/new-co.yml"]
    assert found["accounts/new-co.yml"].old is None


def test_when_and_where(settings: Settings, tmp_path: Path) -> None:
    assert not wanted(settings, False, {"GITLAB_CI": "true"})  # embedded sandbox: flag only
    assert wanted(settings, True, {})
    remote = Settings(**{**settings.__dict__, "gitlab_url": "https://g.example"})
    assert wanted(remote, False, {"GITLAB_CI": "true"}) and not wanted(remote, False, {})
    # Another CI system (CI=true, no GITLAB_CI) is no GitLab job: no ops project to commit to.
    assert not wanted(remote, False, {"CI": "true"})
    assert ops_project(settings, {"CI_PROJECT_PATH": "ops/cs"}) == "ops/cs"
    with pytest.raises(ConfigError, match="ops_project"):
        ops_project(settings, {})
    with pytest.raises(ConfigError, match="not inside the repository"):
        snapshot(settings, {"CI_PROJECT_DIR": str(tmp_path / "elsewhere")})
