"""`gl-csm templates check` / `templates preview` (SPEC 5 Template review).

``check`` validates every project template the way onboard will use it, before a
merge request that changes ``project_templates/`` is merged:

* each manifest against its schema (errors name the file and the key), and every
  segment served by exactly one template;
* every file, issue body, title and milestone description rendered for every sample
  account of the registry (all segments, every phase of the template), with
  undefined variables as errors (StrictUndefined);
* labels: those the issues use and those the GitLab issue templates set with
  ``/label ~name`` exist in the manifest, and none is internal taxonomy (SPEC 6);
* nothing internal in the output: the render context is an allow-list of account
  fields (SPEC 1), and as a second line of defence no rendered text may contain an
  internal label name or the account's ARR.

``preview`` prints what onboard would put in a project for one account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from gl_csm.config import Settings
from gl_csm.domain.account import SEGMENTS, Account
from gl_csm.errors import GlCsmError
from gl_csm.services import collaboration as collab
from gl_csm.templates import INTERNAL_LABEL_PREFIXES, Manifest, manifest_for

# `/label ~name` or `/label ~"two words"` in an issue template (doc/user/project/quick_actions.md).
_LABEL_ACTION = re.compile(r'~"([^"]+)"|~([^\s~"]+)')


@dataclass
class CheckResult:
    templates: list[str] = field(default_factory=list)
    accounts: int = 0
    renders: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "templates": self.templates,
            "accounts": self.accounts,
            "renders": self.renders,
            "problems": self.problems,
        }

    def to_text(self) -> str:
        lines = [
            f"templates: {', '.join(self.templates) or 'none'}; {self.accounts} sample "
            f"account(s); {self.renders} rendering(s)"
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(f"  - {p}" for p in self.problems)
        else:
            lines.append("ok: every template renders for every sample account")
        return "\n".join(lines)


def _quick_action_labels(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith("/label"):
            for quoted, plain in _LABEL_ACTION.findall(line):
                found.append(quoted or plain)
    return found


def check_templates(settings: Settings, today: date) -> CheckResult:
    from gl_csm.registry import load_registry

    result = CheckResult()
    try:
        manifests = collab.manifests_for(settings)
    except GlCsmError as exc:
        result.problems.append(str(exc))
        return result
    result.templates = sorted(manifests)
    for segment in SEGMENTS:
        if not any(segment in m.segments for m in manifests.values()):
            result.problems.append(f"segment {segment!r}: no project template serves it")
    for manifest in manifests.values():
        for f in manifest.files:
            if f.path.startswith(".gitlab/issue_templates/"):
                for label in _quick_action_labels(manifest.text(f.template)):
                    if label not in {lb.name for lb in manifest.labels}:
                        result.problems.append(
                            f"{manifest.root.name}/{f.template}: /label ~{label}: not a label "
                            f"of {manifest.source}"
                        )
    registry = load_registry(settings.accounts_dir)
    for problem in registry.problems:
        result.problems.append(f"sample account: {problem}")
    result.accounts = len(registry.accounts)
    for manifest in manifests.values():
        for account in registry.accounts:
            for phase in manifest.phases:
                result.renders += 1
                _check_one(result, manifest, account, settings, today, phase)
    return result


def _check_one(
    result: CheckResult,
    manifest: Manifest,
    account: Account,
    settings: Settings,
    today: date,
    phase: str,
) -> None:
    path = f"group/{account.slug}"
    try:
        desired = collab.desired_state(
            manifest,
            account,
            settings,
            today,
            phase=phase,
            path=path,
            web_url=f"https://gitlab.example.com/{path}",
        )
    except GlCsmError as exc:
        result.problems.append(f"{manifest.name} ({phase}) for {account.slug}: {exc}")
        return
    texts = list(desired.files.items())
    texts += [(f"issue {w.key}", w.title + "\n" + w.description) for w in desired.issues]
    texts += [(f"milestone {m.key}", m.description) for m in desired.milestones]
    texts.append(("project description", desired.description))
    arr = f"{account.arr:,.0f}" if account.arr else None
    for where, text in texts:
        for prefix in INTERNAL_LABEL_PREFIXES:
            if prefix in text and prefix != "action::":
                result.problems.append(
                    f"{manifest.name} ({phase}) for {account.slug}: {where} contains internal "
                    f"label {prefix}... (SPEC 1: nothing internal in a collaboration project)"
                )
        if arr and (arr in text or str(int(account.arr or 0)) in text):
            result.problems.append(
                f"{manifest.name} ({phase}) for {account.slug}: {where} contains the ARR"
            )


def preview(settings: Settings, slug: str, today: date, phase: str | None = None) -> str:
    """Markdown of what onboard would create for one account (files, milestones, issues)."""
    groups, _ = settings.require_layout("templates preview")
    account = collab.load_account(settings, slug)
    manifest = manifest_for(collab.manifests_for(settings), account.segment)
    path = collab.project_path(manifest, account, groups)
    if phase is None:
        phase = collab.phase_of(manifest, account, groups, path.rpartition("/")[0])
    desired = collab.desired_state(
        manifest,
        account,
        settings,
        today,
        phase=phase,
        path=path,
        web_url=f"https://gitlab.example.com/{path}",
    )
    out = [
        f"# Preview: {path} ({manifest.name} template, {phase})",
        "",
        f"Members: {', '.join(f'{m.username} ({m.role})' for m in desired.members)}",
        "",
        "## Milestones",
        "",
    ]
    out += [f"- {m.title}: {m.start_date} .. {m.due_date}" for m in desired.milestones]
    out += ["", "## Issues", ""]
    for w in desired.issues:
        extra = ", ".join(
            x
            for x in (
                f"assignee {w.assignee}" if w.assignee else "",
                f"due {w.due_date}" if w.due_date else "",
                f"milestone {w.milestone}" if w.milestone else "",
                f"labels {', '.join(w.labels)}" if w.labels else "",
            )
            if x
        )
        out.append(f"- {w.title}" + (f" ({extra})" if extra else ""))
    for file_path, text in desired.files.items():
        out += ["", f"## File {file_path}", "", "````markdown", text.rstrip(), "````"]
    for w in desired.issues:
        out += ["", f"## Issue: {w.title}", "", "````markdown", w.description.rstrip(), "````"]
    return "\n".join(out) + "\n"
