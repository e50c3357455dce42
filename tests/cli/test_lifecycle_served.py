"""Across processes: the lifecycle of
tests/services/test_lifecycle_strict.py against ``gl-csm sandbox serve --edition free``
(a separate process, GitLab REST v4 over HTTP), every step through the CLI with
GITLAB_URL and any GITLAB_TOKEN. Free keeps one assignee
(ee/app/models/ee/issue.rb ``allows_multiple_assignees?``) and scoped labels are not
exclusive (ee/app/services/ee/issuable_base_service.rb); the served edition is set by
``--edition`` (doc/api/issues.md for what the bot reads back). Premium runs the same
lifecycle in-process (test_lifecycle_strict.py), to keep this test's runtime small.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from tests.cli.test_sandbox_serve import _cli, start_server
from tests.conftest import TODAY
from tests.services.react_support import issue_hook
from tests.services.test_lifecycle_strict import ACCOUNTS, TRIAGE, check_once

pytestmark = pytest.mark.slow


class Served:
    """The CS-ops repository in ``workdir`` and a GitLab served by another process."""

    def __init__(self, workdir: Path, url: str) -> None:
        self.workdir, self.url = workdir, url
        self.gw = Gateway.connect(url, "any")

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> dict:
        """One gl-csm command; its plan and call counts as JSON."""
        proc = _cli(
            "--today",
            TODAY.isoformat(),
            *args,
            "--format",
            "json",
            "--stats",
            cwd=self.workdir,
            env={"GITLAB_URL": self.url, "GITLAB_TOKEN": "any"},
            check=False,
        )
        assert proc.returncode in ok, (args, proc.returncode, proc.stdout, proc.stderr)
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def triage(self) -> int:
        """One triage run; its JSON kept for the report (returns its writes)."""
        out = self.run("triage")
        (self.workdir / "triage.json").write_text(json.dumps(out))
        return int(out["stats"]["writes"])

    def report(self) -> int:
        return self.writes("report", "--input", "triage.json", "--issue")

    def writes(self, *args: str, ok: tuple[int, ...] = (0,)) -> int:
        return int(self.run(*args, ok=ok).get("stats", {}).get("writes", 0))

    def slugs(self) -> list[str]:
        return sorted(p.stem for p in (self.workdir / "accounts").glob("*.yml"))

    def onboard_all(self) -> int:
        # A digital customer has no project: usage error (exit 2), nothing written.
        return sum(self.writes("onboard", slug, ok=(0, 2)) for slug in self.slugs())

    def bot_issue(self, project: str, kind: str, slug: str, *, state: str = "all") -> dict:
        found = markers.index_by_marker(self.gw.issues(project, state=state), kind).get(slug)
        assert found is not None, (project, kind, slug)
        return found

    def deliver(self, project: str, issue: dict, label: str) -> None:
        """A person adds ``label``; GitLab delivers the hook twice (a retry)."""
        if label not in (issue.get("labels") or []):
            issue = self.gw.update_issue(project, issue["iid"], add_labels=label)
        payload = self.workdir / "hook.json"
        payload.write_text(json.dumps(issue_hook(project, issue, added=[label])))
        for _ in range(2):
            self.run("react", "--payload", str(payload))


def test_lifecycle_against_served_free_sandbox(workdir: Path) -> None:
    proc, url = start_server(workdir, "--edition", "free")
    try:
        life = Served(workdir, url)
        life.run("setup")
        life.onboard_all()
        life.onboard_all()
        registry = workdir / "accounts" / "tyrell.yml"
        registry.write_text(registry.read_text() + "customer_since: 2026-11-20\n")
        for _ in range(2):
            life.run("promote", "tyrell")
        life.triage()
        assert life.triage() == 0  # SPEC 5: same day, unchanged inputs

        tracking = lambda slug: life.bot_issue(ACCOUNTS, "tracking", slug)  # noqa: E731
        life.deliver(ACCOUNTS, tracking("umbrella"), "sentiment::red")
        life.deliver(ACCOUNTS, tracking("globex"), "triage::needed")
        life.deliver(ACCOUNTS, tracking("initech"), "escalation::requested")
        opened = life.bot_issue(TRIAGE, "triage", "umbrella", state="opened")
        life.deliver(TRIAGE, opened, "triage::resolved")
        life.deliver(ACCOUNTS, tracking("tyrell"), "action::promote")
        for _ in range(2):
            life.run("handoff", "acme-corp", "erin")
            life.run("disengage", "soylent", "--reason", "budget")
        life.triage()
        life.report()
        life.report()

        check_once(SimpleNamespace(gw=life.gw))  # type: ignore[arg-type]

        again = life.triage() + life.onboard_all() + life.report()
        again += life.writes("promote", "tyrell") + life.writes("handoff", "acme-corp", "erin")
        again += life.writes("disengage", "soylent")
        assert again == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        life.gw.close()
