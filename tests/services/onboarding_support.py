"""Helpers for the collaboration-project tests: accounts, state snapshots, kill switches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.services.collaboration.onboard import plan_onboard
from gl_csm.services.setup import plan_setup
from tests.conftest import TODAY

READS = frozenset({"GET", "HEAD", "OPTIONS"})

#: A commercial customer that paid recently, with no project yet.
NEW_COMMERCIAL = """\
# A new commercial customer (test fixture).
name: Vandelay Industries
segment: commercial
region: NORAM
arr: 90000
plan: premium
deployment: saas
customer_since: 2026-11-10
renewal_date: 2027-11-09
team: {csm: bob, sa: frank, ae: carol}
"""

#: An enterprise prospect (pre-sales), no project yet; comments must survive write-back.
NEW_PROSPECT = """\
# Enterprise prospect (test fixture): keep this comment.
name: Initrode
segment: strategic
region: EMEA

arr: 0   # not a customer yet
deployment: self-managed
team: {csm: alice, sa: bob, ae: carol, pse: dave}
project: null   # filled by onboard
"""


def add_account(workdir: Path, slug: str, text: str) -> Path:
    path = workdir / "accounts" / f"{slug}.yml"
    path.write_text(text)
    return path


def onboard_prospect(gateway: Gateway, settings: Settings, workdir: Path) -> Path:
    """Setup, then Initrode (NEW_PROSPECT) added and onboarded in pre-sales; returns its
    registry file."""
    assert plan_setup(gateway, settings).apply(gateway).exit_code == 0
    path = add_account(workdir, "initrode", NEW_PROSPECT)
    assert plan_onboard(gateway, settings, "initrode", TODAY).apply(gateway).exit_code == 0
    return path


def new_gateway(sandbox: Sandbox, adapter: BaseAdapter | None = None) -> Gateway:
    gw = Gateway.for_transport(adapter or SandboxAdapter(sandbox))
    gw._create_wait_max = 0.0
    return gw


class Killed(BaseException):
    """The process died: not an error the bot handles (BaseException, like SIGKILL)."""


class KillingAdapter(BaseAdapter):
    """Passes requests to the sandbox and 'kills the process' at the Nth write:
    before it is sent (``after=False``) or after GitLab processed it but before the
    answer arrives (``after=True``)."""

    def __init__(self, inner: BaseAdapter, nth_write: int, *, after: bool) -> None:
        super().__init__()
        self.inner = inner
        self.nth = nth_write
        self.after = after
        self.writes = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if (request.method or "GET").upper() not in READS:
            self.writes += 1
            if self.writes == self.nth:
                if self.after:
                    self.inner.send(request, **kwargs)
                raise Killed(f"killed at write {self.nth}")
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()


def snapshot(
    gw: Gateway,
    project_path: str,
    tracking_slug: str | None = None,
    accounts_project: str = "customer-success/accounts",
) -> dict[str, Any]:
    """Everything a person would see of a collaboration project (and the account's
    tracking issue), without ids and timestamps, for comparing two runs."""
    base = gw.url.rstrip("/")

    def clean(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        # The card's digests hash its links, the base URL included.
        return re.sub(r'"(card|text)":"\w+"', "", text).replace(base, "BASE")

    project = gw.project(project_path)
    assert project is not None, project_path
    pid = project["id"]
    files = {}
    if not project.get("empty_repo"):
        for entry in gw.tree(pid):
            if entry["type"] == "blob":
                # Team members are profile links: GitLab's address is in the files too.
                files[entry["path"]] = clean(gw.file_text(pid, entry["path"], "main"))
    commits = gw.commits(pid) if not project.get("empty_repo") else []
    milestones = sorted(
        (
            m["title"],
            clean(m.get("description")),
            m.get("start_date"),
            m.get("due_date"),
            m.get("state"),
        )
        for m in gw.milestones(pid)
    )
    issues = sorted(
        (
            i["title"],
            clean(i.get("description")),
            tuple(sorted(i.get("labels") or [])),
            (i.get("milestone") or {}).get("title"),
            tuple(sorted(a["username"] for a in i.get("assignees") or [])),
            i.get("due_date"),
            i.get("state"),
        )
        for i in gw.issues(pid, state="all")
    )
    members = sorted((m["username"], m["access_level"]) for m in gw.members(pid))
    out: dict[str, Any] = {
        "path": project["path_with_namespace"],
        "name": project["name"],
        "visibility": project["visibility"],
        "files": files,
        "commits": [c["message"] for c in commits],
        "milestones": milestones,
        "issues": issues,
        "members": members,
    }
    if tracking_slug:
        tracking = [
            (
                i["title"],
                clean(i.get("description")),
                tuple(sorted(i.get("labels") or [])),
                tuple(sorted(a["username"] for a in i.get("assignees") or [])),
                i["state"],
            )
            for i in gw.issues(accounts_project, state="all")
            if f"gl-csm:tracking:{tracking_slug} " in (i.get("description") or "")
        ]
        out["tracking"] = tracking
    return out
