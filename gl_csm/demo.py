"""`gl-csm demo`: the main job, end to end, on the built-in sandbox (README "Quick start").

A first look needs no GitLab and no token: the sample registry (``accounts/``) and the
example ``gl-csm.yml`` are copied into a demo folder (default ``.gl-csm/demo``) so the
clone's files are never edited, a fresh sandbox is created there, and the daily job
runs as CI would: ``setup`` (taxonomy, boards), ``onboard`` of every account
(collaboration projects from the templates), ``triage`` (tracking, triage and
escalation issues, reminders), then ``report`` (the portfolio report, Markdown). The
summary says what was created and where the report and the sandbox state are.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from gl_csm.config import load_settings
from gl_csm.errors import ConfigError, GlCsmError
from gl_csm.plan import Outcome
from gl_csm.registry import load_registry
from gl_csm.runtime import open_runtime


@dataclass(frozen=True)
class DemoResult:
    folder: Path
    report: Path
    sandbox: Path
    accounts: int
    counts: dict[str, Counter[tuple[str, str]]]
    failures: list[str]
    #: accounts onboard refused by rule, with the reason (a digital customer has no CSM)
    skipped: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        def line(step: str) -> str:
            found = self.counts.get(step, Counter())
            parts = [f"{n} {one if n == 1 else many}" for (one, many), n in found.most_common()]
            return f"  {step:<8} {', '.join(parts) or 'nothing to do'}"

        lines = [
            f"gl-csm demo: the daily job on the built-in GitLab sandbox, sample registry "
            f"({self.accounts} accounts)",
            *(line(step) for step in ("setup", "onboard")),
            *(f"           not onboarded: {why}" for why in self.skipped),
            line("triage"),
            f"  report   {self.report}",
            "",
            f"Report:  {self.report}",
            f"Sandbox: {self.sandbox} (state of the emulated GitLab)",
            "Look further, on the same sandbox:",
            f"  .venv/bin/gl-csm --config {self.folder / 'gl-csm.yml'} "
            f"--sandbox {self.sandbox} triage --stats   # a second run writes 0",
            f"  .venv/bin/gl-csm --config {self.folder / 'gl-csm.yml'} "
            f"--sandbox {self.sandbox} sandbox serve --port 8080   # browse its REST API",
        ]
        lines.extend(f"gl-csm: error: {f}" for f in self.failures)
        return "\n".join(lines)


#: What a change made, as (one, many): "1 tracking issue", "12 tracking issues".
_MADE: dict[str, tuple[str, str]] = {
    "create-label": ("label", "labels"),
    "create-board": ("board", "boards"),
    "create-board-list": ("board list", "board lists"),
    "create-project": ("collaboration project", "collaboration projects"),
    "create-milestone": ("milestone", "milestones"),
    "add-member": ("member", "members"),
    "commit": ("commit of template files", "commits of template files"),
    "create-note": ("note", "notes"),
    "update-registry": ("registry write-back", "registry write-backs"),
    "commit-history": ("history commit", "history commits"),
}


def _kind(action: str, target: str) -> tuple[str, str]:
    """A change, named as what it made (bot issues by the words of their target)."""
    if action == "create-issue":
        for one in ("tracking issue", "triage issue", "escalation issue", "reminder issue"):
            if one.split()[0] in target:
                return one, f"{one}s"
        return "issue", "issues"
    if action == "update-issue" and "tracking issue" in target:
        return "tracking issue updated", "tracking issues updated"
    return _MADE.get(action, (f"{action} change", f"{action} changes"))


def _count(outcome: Outcome) -> Counter[tuple[str, str]]:
    return Counter(_kind(c.action, c.target) for c in outcome.changes)


def run_demo(config: Path, folder: Path, today: date) -> DemoResult:
    from gl_csm.services.collaboration.onboard import plan_onboard
    from gl_csm.services.setup import plan_setup
    from gl_csm.services.triage.report import load_results, render_report, report_context
    from gl_csm.services.triage.run import plan_triage

    source = load_settings(config, explicit=True, environ={})
    if not source.accounts_dir.is_dir():
        raise ConfigError(f"{config}: the registry {source.accounts_dir} does not exist")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / "accounts", ignore_errors=True)
    shutil.copytree(source.accounts_dir, folder / "accounts")
    text = config.read_text(encoding="utf-8")
    (folder / "gl-csm.yml").write_text(text, encoding="utf-8")
    # Always the embedded sandbox: GITLAB_URL / CI_SERVER_URL are ignored here.
    settings = load_settings(folder / "gl-csm.yml", explicit=True, environ={})
    if settings.gitlab_url:
        settings = settings.__class__(**{**settings.__dict__, "gitlab_url": None})
    sandbox = folder / "sandbox.json"
    sandbox.unlink(missing_ok=True)

    counts: dict[str, Counter[tuple[str, str]]] = {}
    failures: list[str] = []
    skipped: list[str] = []
    runtime = open_runtime(settings, today, sandbox, notice=False)
    try:
        gw = runtime.gateway
        outcome = plan_setup(gw, settings).apply(gw)
        counts["setup"] = _count(outcome)
        failures += [f.to_text() for f in outcome.failures]
        accounts = load_registry(settings.accounts_dir).accounts
        slugs = [a.slug for a in accounts]
        counts["onboard"] = Counter()
        for account in accounts:
            if account.digital:
                # By rule: a digital customer has no CSM, so no collaboration project.
                skipped.append(f"{account.slug} (digital customer: no CSM, no project)")
                continue
            try:
                plan = plan_onboard(gw, settings, account.slug, today)
            except GlCsmError as exc:
                failures.append(str(exc))
                continue
            outcome = plan.apply(gw)
            counts["onboard"].update(_count(outcome))
            failures += [f.to_text() for f in outcome.failures]
        run = plan_triage(gw, settings, today)
        outcome = run.plan.apply(gw)
        counts["triage"] = _count(outcome)
        failures += [f.to_text() for f in outcome.failures]
        results = folder / "triage.json"
        doc = outcome.render(
            "json", dry_run=False, extra=run.extra(f.account for f in outcome.failures)
        )
        results.write_text(doc, encoding="utf-8")
        # The report reads the history this triage has just committed, as the CI
        # report job does after the shards (README "Portfolio view").
        history, previous = report_context(gw, settings, today)
    finally:
        runtime.close()
    report = folder / "report.md"
    data = load_results([results])
    text = render_report(data, today, settings.rules, history=history, previous=previous)
    report.write_text(text, encoding="utf-8")
    json.loads(doc)  # the shard format `gl-csm report` reads
    return DemoResult(folder, report, sandbox, len(slugs), counts, failures, skipped)
