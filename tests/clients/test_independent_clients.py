"""Independent GitLab clients complete a realistic run against `gl-csm sandbox serve`:
create a group, a project, labels, milestones, issues, notes and members, list them,
update them and delete them, each the way that client does it (its own URL encoding,
form or JSON bodies, pagination and error handling).

Commands (also in the README, "Sandbox strictness"): each test below runs the client
against a freshly served sandbox and then reads the sandbox's state back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import (
    TOKEN,
    Served,
    clients_venv_tool,
    has_module,
    node_modules,
    python_gitlab_cli,
    require,
)

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.slow


def test_python_gitlab_cli(served: Served) -> None:
    """python-gitlab's `gitlab` CLI (its own argument names, JSON output)."""
    exe = python_gitlab_cli()
    base = [exe, "--server-url", served.url, "--private-token", TOKEN, "-o", "json"]

    def cli(*args: str) -> object:
        out = served.run(*base, *args)
        return json.loads(out) if out.strip() else None

    group = cli("group", "create", "--name", "CLI", "--path", "cli")
    assert isinstance(group, dict)
    cli("project", "create", "--name", "demo", "--namespace-id", str(group["id"]))
    p = "cli/demo"
    cli("project-label", "create", "--project-id", p, "--name", "bug", "--color", "#ff0000")
    cli("group-label", "create", "--group-id", "cli", "--name", "team", "--color", "#00ff00")
    cli("project-milestone", "create", "--project-id", p, "--title", "v1")
    cli("project-issue", "create", "--project-id", p, "--title", "First", "--labels", "bug,team")
    cli("project-issue", "create", "--project-id", p, "--title", "Second")
    cli("project-issue-note", "create", "--project-id", p, "--issue-iid", "1", "--body", "Hi")
    user = cli("user", "list", "--username", "vp-cs")
    assert isinstance(user, list) and user
    uid = str(user[0]["id"])
    cli("project-member", "create", "--project-id", p, "--user-id", uid, "--access-level", "30")
    listed = cli("project-issue", "list", "--project-id", p, "--labels", "bug")
    assert [i["title"] for i in listed] == ["First"]  # type: ignore[union-attr]
    cli("project-issue", "update", "--project-id", p, "--iid", "1", "--state-event", "close")
    cli("project-label", "update", "--project-id", p, "--name", "bug", "--new-name", "defect")
    cli("project", "update", "--id", p, "--description", "edited by the CLI")
    cli("project-member", "delete", "--project-id", p, "--id", uid)
    cli("project-label", "delete", "--project-id", p, "--name", "defect")
    cli("project-issue", "delete", "--project-id", p, "--iid", "2")

    enc = "/projects/cli%2Fdemo"
    assert served.names(f"{enc}/issues", "title") == ["First"]
    assert served.get(f"{enc}/issues/1")["state"] == "closed"  # type: ignore[index]
    assert served.names(f"{enc}/labels") == ["team"]
    assert served.get(f"{enc}/members") == []
    assert served.get(enc)["description"] == "edited by the CLI"  # type: ignore[index]


def test_gitlabform(served: Served, tmp_path: Path) -> None:
    """gitlabform: group and project processing (settings, labels, members), then a
    second run that enforces the project's labels (deletes those no longer listed)."""
    exe = clients_venv_tool("gitlabform")
    served.run(
        python_gitlab_cli(),
        "--server-url",
        served.url,
        "--private-token",
        TOKEN,
        "group",
        "create",
        "--name",
        "Form",
        "--path",
        "form",
    )
    gid = served.get("/groups/form")["id"]  # type: ignore[index]
    served.run(
        python_gitlab_cli(),
        "--server-url",
        served.url,
        "--private-token",
        TOKEN,
        "project",
        "create",
        "--name",
        "demo",
        "--namespace-id",
        str(gid),
    )
    config = {
        "config_version": 3,
        "gitlab": {"url": served.url, "token": TOKEN},
        "projects_and_groups": {
            "form/*": {
                "group_settings": {"description": "Managed by gitlabform"},
                "group_labels": {"team-a": {"color": "#00ff00", "description": "Team A"}},
                "group_members": {"users": {"vp-cs": {"access_level": "developer"}}},
            },
            "form/demo": {
                "project_settings": {"description": "Demo project", "topics": ["demo"]},
                "labels": {
                    "bug": {"color": "#ff0000", "description": "A bug"},
                    "feature": {"color": "#0000ff"},
                },
                "members": {"users": {"ps-director": {"access_level": "reporter"}}},
            },
        },
    }
    path = tmp_path / "gitlabform.yml"
    path.write_text(yaml.safe_dump(config))
    served.run(exe, "--config", str(path), "ALL_DEFINED")
    labels = config["projects_and_groups"]["form/demo"]["labels"]  # type: ignore[index]
    labels.pop("feature")
    labels["enforce"] = True
    path.write_text(yaml.safe_dump(config))
    served.run(exe, "--config", str(path), "ALL_DEFINED")

    group = served.get("/groups/form", with_projects="false")
    assert group["description"] == "Managed by gitlabform"  # type: ignore[index]
    # gitlabform's enforce deletes every label the project's listing shows that it was
    # not told about, the inherited group label too: GitLab deletes a group label through
    # the project for a user with rights on the group (labels_spec.rb "with group label",
    # ``it 'returns 204 if user has access'``), and so does the sandbox.
    assert served.names("/groups/form/labels") == []
    members = {m["username"]: m["access_level"] for m in served.get("/groups/form/members")}  # type: ignore[union-attr]
    assert members["vp-cs"] == 30
    enc = "/projects/form%2Fdemo"
    assert served.names(f"{enc}/labels", include_ancestor_groups="false") == ["bug"]
    assert served.names(f"{enc}/members", "username") == ["ps-director"]
    project = served.get(enc)
    assert (project["description"], project["topics"]) == ("Demo project", ["demo"])  # type: ignore[index]


def test_gitlabracadabra(served: Served, tmp_path: Path) -> None:
    """gitlabracadabra: creates a group and a project with labels, a milestone and
    members, deletes members and labels it is not told about; a second run changes
    nothing; warnings fail the run (``--fail-on-warnings``)."""
    exe = clients_venv_tool("gitlabracadabra")
    cfg = tmp_path / "python-gitlab.cfg"
    cfg.write_text(
        f"[global]\ndefault = sandbox\ntimeout = 10\n\n"
        f"[sandbox]\nurl = {served.url}\nprivate_token = {TOKEN}\n"
    )
    actions = {
        "racadabra": {
            "type": "group",
            "create_object": True,
            "name": "Racadabra",
            "description": "Managed by gitlabracadabra",
            "visibility": "private",
            "labels": [{"name": "team-r", "color": "#00ff00", "description": "Team R"}],
            "members": {"vp-cs": "developer"},
            # The group's creator is its Owner, as on GitLab.
            "unknown_members": "ignore",
        },
        "racadabra/app": {
            "type": "project",
            "create_object": True,
            "description": "App managed by gitlabracadabra",
            "visibility": "private",
            "topics": ["demo"],
            "issues_access_level": "enabled",
            "merge_requests_access_level": "private",
            "labels": [
                {"name": "bug", "color": "#ff0000", "description": "A bug"},
                {"name": "feature", "color": "#0000ff"},
            ],
            "milestones": [{"title": "v1.0", "description": "First", "due_date": "2031-01-01"}],
            "members": {"ps-director": "reporter"},
            "unknown_members": "delete",
            "unknown_labels": "delete",
            "unknown_milestones": "delete",
        },
    }
    path = tmp_path / "racadabra.yml"
    path.write_text(yaml.safe_dump(actions))
    argv = [exe, "-c", str(cfg), "--fail-on-errors", "--fail-on-warnings", str(path)]
    served.run(*argv)
    out = served.run(*argv, "-v")
    assert "Changing" not in out and "Adding" not in out and "Removing" not in out, out

    enc = "/projects/racadabra%2Fapp"
    project = served.get(enc)
    assert project["description"] == "App managed by gitlabracadabra"  # type: ignore[index]
    assert project["merge_requests_access_level"] == "private"  # type: ignore[index]
    assert served.names(f"{enc}/labels", include_ancestor_groups="false") == [
        "bug",
        "feature",
        "team-r",
    ]
    assert served.names(f"{enc}/milestones", "title") == ["v1.0"]
    assert served.names(f"{enc}/members", "username") == ["ps-director"]
    assert served.names("/groups/racadabra/labels") == ["team-r"]


def test_gitbeaker(served: Served) -> None:
    """@gitbeaker/rest (Node): the whole run in tests/clients/gitbeaker_run.mjs."""
    modules = node_modules()
    out = served.run("node", str(HERE / "gitbeaker_run.mjs"), served.url, TOKEN, modules)
    assert "FAIL" not in out and out.strip().endswith("done"), out
    assert out.count("\nok ") + out.startswith("ok ") == 21, out


def test_perl_gitlab_api_v4(served: Served) -> None:
    """Debian's libgitlab-api-v4-perl (GitLab::API::v4), JSON bodies and its own paths:
    tests/clients/gitlab_api_v4_run.pl."""
    has_module(["perl", "-MGitLab::API::v4", "-e1"], "apt-get install libgitlab-api-v4-perl")
    out = served.run("perl", str(HERE / "gitlab_api_v4_run.pl"), served.url, TOKEN)
    assert "FAIL" not in out and out.strip().endswith("done"), out


def test_ruby_gitlab(served: Served) -> None:
    """Debian's ruby-gitlab (form bodies, nested ``actions[][...]`` for a commit):
    tests/clients/ruby_gitlab_run.rb."""
    has_module(["ruby", "-rgitlab", "-e1"], "apt-get install ruby-gitlab")
    out = served.run("ruby", str(HERE / "ruby_gitlab_run.rb"), served.url, TOKEN)
    assert "FAIL" not in out and out.strip().endswith("done"), out


def test_gitlab_rulez(served: Served, tmp_path: Path) -> None:
    """Debian's gitlab-rulez: project settings, a branch from main and the protection of
    main applied; a second ``diff`` computes nothing."""
    exe = require("/usr/bin/gitlab-rulez", "apt-get install gitlab-rulez")
    cli = [python_gitlab_cli(), "--server-url", served.url, "--private-token", TOKEN]
    served.run(*cli, "group", "create", "--name", "Rulez", "--path", "rulez")
    gid = served.get("/groups/rulez")["id"]  # type: ignore[index]
    served.run(*cli, "project", "create", "--name", "demo", "--namespace-id", str(gid))
    served.run(
        *cli,
        "project-file",
        "create",
        "--project-id",
        "rulez/demo",
        "--file-path",
        "README.md",
        "--branch",
        "main",
        "--content",
        "# demo",
        "--commit-message",
        "init",
    )
    rules = {
        "rules": [
            {
                "description": "Demo projects",
                "matches": ["rulez/demo"],
                "default_branch": "main",
                "settings": {
                    "description": "Kept by gitlab-rulez",
                    "merge_requests_access_level": "private",
                },
                "ensure_branches": [{"name": "develop", "base": "main", "required": True}],
                "protected_branches": [
                    {
                        "name": "main",
                        "merge_access_level": "MAINTAINER_ACCESS",
                        "push_access_level": "NO_ACCESS",
                    }
                ],
            }
        ]
    }
    path = tmp_path / "rulez.yml"
    path.write_text(yaml.safe_dump(rules))
    base = [exe, "--gitlab-server-url", served.url, "--gitlab-api-token", TOKEN]
    out = served.run(*base, "apply", "--filter", "rulez/demo", str(path))
    assert "applied 6 actions" in out, out
    out = served.run(*base, "diff", "--filter", "rulez/demo", str(path))
    assert "computed 0 actions" in out, out
    enc = "/projects/rulez%2Fdemo"
    assert served.names(f"{enc}/repository/branches") == ["develop", "main"]
    protected = served.get(f"{enc}/protected_branches")
    assert [(p["name"], p["push_access_levels"][0]["access_level"]) for p in protected] == [  # type: ignore[union-attr]
        ("main", 0)
    ]
    assert served.get(enc)["description"] == "Kept by gitlab-rulez"  # type: ignore[index]
