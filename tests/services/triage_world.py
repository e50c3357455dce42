"""A small world for triage tests: a registry written per test, an in-process sandbox
whose clock follows the test's `today`, and a gateway on it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from gl_csm.config import Settings, load_settings
from gl_csm.gitlab.gateway import Gateway, Stats
from gl_csm.plan import Outcome
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Faults, Sandbox, SandboxAdapter
from gl_csm.services.triage.run import TriageRun, plan_triage
from tests.conftest import CONFIG

ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
ESCALATIONS = "customer-success/escalations"
TEAM = {"csm": "alice", "sa": "bob", "ae": "carol", "pse": "dave"}
YELLOW_NORAM = {"carol", "bob", "noram-mgr", "noram-dir"}
RED_NORAM = YELLOW_NORAM | {"noram-asm", "noram-rd", "vp-cs"}


def account_data(name: str, **keys: Any) -> dict[str, Any]:
    """A healthy strategic NORAM customer (green), with `keys` on top (None removes)."""
    data: dict[str, Any] = {
        "name": name,
        "segment": "strategic",
        "region": "NORAM",
        "arr": 300000,
        "customer_since": date(2024, 3, 1),
        "onboarding_completed": date(2024, 4, 1),
        "renewal_date": date(2027, 10, 31),
        "seats": {"licensed": 100, "active": 90},
        "usage": {
            "as_of": date(2026, 11, 1),
            "monthly_active": 0.8,
            "scm": 0.8,
            "ci": 0.6,
            "devsecops": 0.4,
            "cd": 0.4,
        },
        "success_plan": {"objectives": 4},
        "engagement": {
            "last_call": date(2026, 11, 10),
            "contacts": 5,
            "personas_last_90_days": ["development-lead", "security-lead"],
        },
        "support": {"as_of": date(2026, 11, 20), "tickets_last_30_days": 2},
        "sentiment": {"health": "green", "updated": date(2026, 11, 1)},
        "team": dict(TEAM),
    }
    data.update(keys)
    return {k: v for k, v in data.items() if v is not None}


RED = {
    "sentiment": {"health": "red", "updated": date(2026, 11, 20)},
    "risk": {
        "contraction": True,
        "types": ["cost-budget", "roi"],
        "reasons": ["loss-of-budget"],
        "impacts": ["seat-churn"],
    },
}
YELLOW_TRIAGE = {
    "sentiment": {"health": "yellow", "needs_triage": True, "updated": date(2026, 11, 20)}
}


@dataclass
class World:
    root: Path
    today: date = date(2026, 11, 23)
    faults: Faults | None = None
    edition: str = "free"
    settings: Settings = field(init=False)
    sandbox: Sandbox = field(init=False)
    gateway: Gateway = field(init=False)

    def __post_init__(self) -> None:
        (self.root / "accounts").mkdir(parents=True, exist_ok=True)
        (self.root / "gl-csm.yml").write_text(CONFIG)
        self.settings = load_settings(self.root / "gl-csm.yml", environ={})
        self.sandbox = Sandbox(clock=self._now, edition=self.edition)
        seed_sandbox(
            self.sandbox,
            self.settings,
            extra_users=["alice", "bob", "carol", "dave", "erin", "frank"],
        )
        self.gateway = self._gateway(self.faults)

    def _gateway(self, faults: Faults | None) -> Gateway:
        gw = Gateway.for_transport(SandboxAdapter(self.sandbox, faults))
        gw._create_wait_max = 0.0
        # python-gitlab's own backoff for transient errors: keep tests fast.
        return gw

    def _now(self) -> dt.datetime:
        return dt.datetime.combine(self.today, dt.time(9, 0), tzinfo=dt.UTC)

    def write(self, slug: str, data: dict[str, Any]) -> None:
        (self.root / "accounts" / f"{slug}.yml").write_text(yaml.safe_dump(data, sort_keys=False))

    def add(self, slug: str, name: str | None = None, **keys: Any) -> None:
        self.write(slug, account_data(name or slug.replace("-", " ").title(), **keys))

    def run(
        self, today: date | None = None, *, shard: tuple[int, int] | None = None
    ) -> tuple[Outcome, TriageRun, Stats]:
        if today is not None:
            self.today = today
        before = self.gateway.stats
        run = plan_triage(self.gateway, self.settings, self.today, shard=shard)
        outcome = run.plan.apply(self.gateway)
        after = self.gateway.stats
        return outcome, run, Stats(after.reads - before.reads, after.writes - before.writes)

    # -- reading the sandbox (not counted against the bot: a separate gateway) --
    def issues(self, project: str, **query: Any) -> list[dict]:
        gw = Gateway.for_transport(SandboxAdapter(self.sandbox))
        return gw.issues(project, state=query.pop("state", "all"), **query)

    def notes(self, project: str, iid: int) -> list[dict]:
        gw = Gateway.for_transport(SandboxAdapter(self.sandbox))
        return gw.notes(project, iid)

    def person(self) -> Gateway:
        """A gateway acting as a person (any token is the bot in the sandbox: the
        person's notes carry no marker, which is what the bot tells them apart by)."""
        return Gateway.for_transport(SandboxAdapter(self.sandbox))

    def person_appends_to_readme(self, project_path: str, text: str) -> str:
        """A person adds ``text`` to the collaboration project's README (one commit) and
        the new README is returned: what the bot's rewrites must keep."""
        person = self.person()
        project = person.project(project_path)
        assert project is not None, project_path
        pid = project["id"]
        readme = (person.file_text(pid, "README.md", "main") or "") + text
        person.commit(
            pid,
            "main",
            "A person's edit",
            [{"action": "update", "file_path": "README.md", "content": readme}],
            "person-edit",
        )
        return readme

    def mentioned(self, project: str, iid: int, source: str | None = None) -> set[str]:
        return {
            m["username"]
            for m in self.sandbox.mentions
            if m["project"] == project
            and m["noteable_iid"] == iid
            and (source is None or m["source"] == source)
        }

    def printed_in_other_processes(self, script: str) -> set[str]:
        """What ``script`` (given this world's config path as argv[1]) prints, run in
        three processes with other str-hash seeds, one of them in a copy of the world
        elsewhere (another CI checkout): a digest must come out the same in all."""
        elsewhere = self.root.with_name(self.root.name + "-elsewhere")
        shutil.copytree(self.root, elsewhere)
        return {
            subprocess.run(
                [sys.executable, "-c", script, str(root / "gl-csm.yml")],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
            ).stdout.strip()
            for seed, root in (("1", self.root), ("2", elsewhere), ("3", self.root))
        }
