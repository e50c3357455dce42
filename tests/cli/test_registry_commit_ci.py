"""Registry edits made in CI are committed, not lost (SPEC 5 Registry write-back), across
processes against `gl-csm sandbox serve`: a react job in a simulated CI environment
(CI, CI_PROJECT_PATH, CI_PROJECT_DIR, TRIGGER_PAYLOAD as GitLab sets them) leaves ONE
merge request with the change; a second job, on a fresh checkout, updates it (no second
MR, the first edit kept). Sandbox: doc/api/commits.md, doc/api/merge_requests.md."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.registry_commit import BRANCH, TITLE
from tests.cli.test_sandbox_serve import _cli, start_server
from tests.services.react_support import issue_hook

pytestmark = pytest.mark.slow
DAY = "2026-11-23"
OPS = "ops/cs-ops"
ACCOUNTS = "customer-success/accounts"


def _push_checkout(gw: Gateway, workdir: Path) -> None:
    """The ops repository: gl-csm.yml and accounts/ on main, as people merged them."""
    group = gw.gl.http_post("/groups", post_data={"name": "ops", "path": "ops"})
    gw.gl.http_post("/projects", post_data={"namespace_id": group["id"], "path": "cs-ops"})
    files = [workdir / "gl-csm.yml", *sorted((workdir / "accounts").glob("*.yml"))]
    actions = [
        {
            "action": "create",
            "file_path": f.relative_to(workdir).as_posix(),
            "content": base64.b64encode(f.read_bytes()).decode(),
            "encoding": "base64",
        }
        for f in files
    ]
    gw.commit(OPS, "main", "registry", actions, "gl-csm:test:seed")


def _payload(gw: Gateway, workdir: Path, slug: str) -> Path:
    """A person adds action::promote to the account's tracking issue; the hook GitLab
    would send, written where TRIGGER_PAYLOAD (a file variable) points."""
    issues = gw.issues(ACCOUNTS, state="all")
    issue = markers.index_by_marker(issues, "tracking")[slug]
    gw.update_issue(ACCOUNTS, issue["iid"], add_labels="action::promote")
    path = workdir / f"payload-{slug}.json"
    fresh = gw.issue(ACCOUNTS, issue["iid"])
    assert fresh is not None
    path.write_text(json.dumps(issue_hook(ACCOUNTS, fresh, added=["action::promote"])))
    return path


def test_react_in_ci_commits_the_registry_edit_to_one_merge_request(workdir: Path) -> None:
    accounts = workdir / "accounts"
    prospect = (accounts / "tyrell.yml").read_text()
    (accounts / "initrode.yml").write_text(
        prospect.replace("Tyrell Corporation", "Initrode").replace(
            "project: account-management/pre-sales/tyrell\n", ""
        )
    )
    proc, url = start_server(workdir)
    try:
        token = {"GITLAB_TOKEN": "any"}

        def gl(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
            run = _cli(
                "--gitlab-url",
                url,
                "--today",
                DAY,
                *args,
                cwd=workdir,
                env={**token, **(env or {})},
            )
            return run.returncode, run.stdout, run.stderr

        gl("setup")
        gl("onboard", "tyrell")
        gl("onboard", "initrode")
        for slug in ("tyrell", "initrode"):  # the customers paid; people merged that
            file = accounts / f"{slug}.yml"
            file.write_text(file.read_text() + "customer_since: 2026-11-20\n")
        gw = Gateway.connect(url, "any")
        _push_checkout(gw, workdir)
        main_text = {p.name: p.read_text() for p in accounts.glob("*.yml")}
        ci = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": "trigger",
            "CI_PROJECT_PATH": OPS,
            "CI_PROJECT_DIR": str(workdir),
        }

        # Job 1: promote tyrell -> project: moves to post-sales; committed, MR opened.
        payload = _payload(gw, workdir, "tyrell")
        code, out, err = gl("react", "--payload", str(payload), env=ci)
        assert code == 0, err
        assert "merge request !1 opened" in err and "1 file(s) committed" in err
        mrs = gw.merge_requests(OPS, state="opened")
        assert [(m["title"], m["source_branch"], m["target_branch"]) for m in mrs] == [
            (TITLE, BRANCH, "main")
        ]
        on_branch = gw.file_text(OPS, "accounts/tyrell.yml", BRANCH)
        assert on_branch is not None
        assert "project: account-management/customers/tyrell" in on_branch
        assert gw.file_text(OPS, "accounts/tyrell.yml", "main") == main_text["tyrell.yml"]

        # Job 2, on a fresh checkout of main: promote initrode; the same MR is updated.
        for name, text in main_text.items():
            (accounts / name).write_text(text)
        payload = _payload(gw, workdir, "initrode")
        code, out, err = gl("react", "--payload", str(payload), env=ci)
        assert code == 0, err
        assert "merge request !1 updated" in err
        assert len(gw.merge_requests(OPS, state="all")) == 1
        tyrell = gw.file_text(OPS, "accounts/tyrell.yml", BRANCH)
        initrode = gw.file_text(OPS, "accounts/initrode.yml", BRANCH)
        assert tyrell == on_branch  # job 1's edit kept
        assert initrode is not None
        assert "project: account-management/customers/initrode" in initrode
        assert "# Enterprise prospect in pre-sales" in initrode  # comments kept
        assert gw.file_text(OPS, "accounts/initrode.yml", "main") == main_text["initrode.yml"]

        # Not in CI and no flag: nothing is committed (a local run edits the files only).
        commits = len(gw.commits(OPS, ref_name=BRANCH))
        gl("promote", "initrode")
        assert len(gw.commits(OPS, ref_name=BRANCH)) == commits
    finally:
        proc.terminate()
        proc.wait(timeout=10)
