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
  internal label name or the account's ARR;
* the internal `issue_templates/` of the repository: Jinja2 syntax and YAML.

``preview`` prints what onboard would put in a project for one account; with a merge
request (``preview --mr IID``) it posts the rendered preview of the changed templates
as one note of the merge request, updated in place on later pushes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import SEGMENTS, Account
from gl_csm.errors import GlCsmError, UsageError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.collaboration import project_state as collab
from gl_csm.services.triage.playbooks import PLAYBOOKS
from gl_csm.services.triage.playbooks import check_file as check_playbooks
from gl_csm.templates import (
    INTERNAL_LABEL_PREFIXES,
    Manifest,
    inert_commands,
    inline,
    manifest_for,
)

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
    result.problems += check_internal_templates(repo_root(settings))
    registry = load_registry(settings.accounts_dir)
    for problem in registry.problems:
        result.problems.append(f"sample account: {problem}")
    result.accounts = len(registry.accounts)
    for manifest in manifests.values():
        for account in registry.accounts:
            for phase in manifest.phases:
                # Post-sales in both playbooks (handbook 003: new or existing customer),
                # whichever the sample account is today.
                for variant in ("new", "existing") if phase == "post-sales" else ("new",):
                    result.renders += 1
                    _check_one(result, manifest, account, settings, today, phase, variant)
    return result


def _check_one(
    result: CheckResult,
    manifest: Manifest,
    account: Account,
    settings: Settings,
    today: date,
    phase: str,
    variant: str = "new",
) -> None:
    path = f"group/{account.slug}"
    # How a problem names the rendering: "enterprise (post-sales, existing customer)".
    label = phase if variant == "new" else f"{phase}, {variant} customer"
    try:
        desired = collab.desired_state(
            manifest,
            account,
            settings,
            today,
            phase=phase,
            path=path,
            web_url=f"https://gitlab.example.com/{path}",
            variant=variant,
        )
    except GlCsmError as exc:
        result.problems.append(f"{manifest.name} ({label}) for {account.slug}: {exc}")
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
                    f"{manifest.name} ({label}) for {account.slug}: {where} contains internal "
                    f"label {prefix}... (SPEC 1: nothing internal in a collaboration project)"
                )
        if arr and (arr in text or str(int(account.arr or 0)) in text):
            result.problems.append(
                f"{manifest.name} ({label}) for {account.slug}: {where} contains the ARR"
            )


def _milestone_title(manifest: Manifest, key: str) -> str:
    spec = manifest.milestone(key)
    return spec.title if spec else key


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
                f"milestone {_milestone_title(manifest, w.milestone)}" if w.milestone else "",
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


# ---------------------------------------------------------------- review in a merge request
#
# SPEC 5 Template review: in a merge request that changes `project_templates/` or
# `issue_templates/`, post (or update in place) ONE note with the rendered preview of
# what changed. The job runs in the merge request's pipeline, so the local working tree
# is the merge request's head: templates are read from disk, the list of changed files
# from GitLab (`merge_request_diffs`).

PREVIEW_KIND = "template-preview"
#: GitLab refuses note bodies over 1,000,000 characters (Note `validates :note, length`).
NOTE_LIMIT = 1_000_000
TEMPLATE_DIRS: tuple[str, ...] = ("project_templates/", "issue_templates/")
_MARKER_TEXT = re.compile(r"gl-csm:")
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class Section:
    """One collapsible `<details>` of the note: a changed file for one sample account."""

    summary: str
    body: str

    def to_markdown(self) -> str:
        return f"<details><summary>{self.summary}</summary>\n\n{self.body}\n\n</details>"


def repo_root(settings: Settings) -> Path:
    """Where the templates of the merge request's head are: the config's folder (CI:
    the checked-out repository), else the current directory."""
    return settings.config_path.resolve().parent if settings.config_path else Path.cwd()


def changed_templates(diffs: list[dict]) -> list[tuple[str, bool]]:
    """(path, deleted) of every changed file under a template folder, sorted."""
    out = {}
    for diff in diffs:
        path = diff.get("new_path") or diff.get("old_path") or ""
        if path.startswith(TEMPLATE_DIRS):
            out[path] = bool(diff.get("deleted_file"))
    return sorted(out.items())


def sample_accounts(accounts: tuple[Account, ...]) -> dict[str, Account]:
    """One sample account per segment: the first by slug (stable between pushes)."""
    out: dict[str, Account] = {}
    for account in sorted(accounts, key=lambda a: a.slug):
        out.setdefault(account.segment, account)
    return out


def _fenced(text: str) -> str:
    """A Markdown code block that nothing in ``text`` can close; no marker or mention
    inside it takes effect (ARCHITECTURE rule 5). Quick actions are *not* stopped by
    the fence (GitLab's extractor only knows exact ``` fences, and an issue template
    holds ``/label`` lines): every command line is made inert."""
    text = inert_commands(_MARKER_TEXT.sub("gl-csm\u200b:", text))
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(4, longest + 1)
    return f"{fence}markdown\n{text.rstrip()}\n{fence}"


def _outputs(desired: collab.Desired, relative: str, whole: bool) -> list[tuple[str, str]]:
    """What one template file (or, for a manifest change, everything) renders to."""
    manifest = desired.manifest
    out = [
        (f"file {f.path}", desired.files[f.path])
        for f in manifest.files
        if whole or f.template == relative
    ]
    out += [
        (f"issue {w.title}", w.description)
        for w in desired.issues
        if whole or w.spec.template == relative
    ]
    if whole:
        out += [(f"milestone {m.title}", m.description) for m in desired.milestones]
        out.append(("project description", desired.description))
    return out


def _project_sections(
    settings: Settings, today: date, path: str, samples: dict[str, Account]
) -> list[Section]:
    """Renderings of one changed file of `project_templates/<template>/`."""
    _, folder, relative = path.split("/", 2) if path.count("/") >= 2 else ("", "", "")
    try:
        manifest = collab.manifests_for(settings).get(folder)
    except GlCsmError as exc:
        return [Section(f"<code>{path}</code>: not rendered", _fenced(str(exc)))]
    if manifest is None:
        return [Section(f"<code>{path}</code>: not in a template folder", "No manifest.yml.")]
    whole = relative == "manifest.yml"
    sections = []
    for segment in manifest.segments:
        account = samples.get(segment)
        if account is None:
            sections.append(Section(f"<code>{path}</code>: {segment}", "No sample account."))
            continue
        for phase in manifest.phases:
            sections.append(
                _render_section(settings, today, manifest, account, phase, path, relative, whole)
            )
    return sections


def _render_section(
    settings: Settings,
    today: date,
    manifest: Manifest,
    account: Account,
    phase: str,
    path: str,
    relative: str,
    whole: bool,
) -> Section:
    summary = f"<code>{path}</code>: {account.segment} ({account.slug}), {phase}"
    project = f"group/{account.slug}"
    try:
        desired = collab.desired_state(
            manifest,
            account,
            settings,
            today,
            phase=phase,
            path=project,
            web_url=f"https://gitlab.example.com/{project}",
        )
    except GlCsmError as exc:
        return Section(f"{summary}: does not render", _fenced(str(exc)))
    outputs = _outputs(desired, relative, whole)
    if not outputs:
        return Section(summary, f"Not used in the {phase} phase of {manifest.name}.")
    body = "\n\n".join(f"**{inline(what)}**\n\n{_fenced(text)}" for what, text in outputs)
    return Section(summary, body)


def _internal_section(root: Path, path: str) -> Section:
    """`issue_templates/` are internal (triage, tracking): each is rendered by its
    command with its own context, so the preview shows the new source (syntax checked
    by `check`)."""
    try:
        text = (root / path).read_text(encoding="utf-8")
    except OSError as exc:
        return Section(f"<code>{path}</code>: cannot be read", _fenced(str(exc.strerror)))
    return Section(f"<code>{path}</code>: internal template (source)", _fenced(text))


def check_internal_templates(root: Path) -> list[str]:
    """Jinja2 syntax of every `issue_templates/*.j2`, YAML of its `*.yml` files, and
    `playbooks.yml` against its schema (every text a string)."""
    from jinja2 import TemplateSyntaxError

    from gl_csm.templates import environment

    problems: list[str] = []
    folder = root / "issue_templates"
    if not folder.is_dir():
        return problems
    env = environment()
    for file in sorted(folder.iterdir()):
        name = f"issue_templates/{file.name}"
        try:
            if file.suffix == ".j2":
                env.parse(file.read_text(encoding="utf-8"))
            elif file.name == PLAYBOOKS:
                problems += check_playbooks(file)
            elif file.suffix in (".yml", ".yaml"):
                yaml.safe_load(file.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            problems.append(f"{name}:{exc.lineno}: TemplateSyntaxError: {exc.message}")
        except yaml.YAMLError as exc:
            problems.append(f"{name}: not valid YAML: {getattr(exc, 'problem', exc)}")
    return problems


def preview_sections(
    settings: Settings, today: date, changed: list[tuple[str, bool]], samples: dict[str, Account]
) -> list[Section]:
    root = repo_root(settings)
    sections: list[Section] = []
    for path, deleted in changed:
        if deleted:
            sections.append(Section(f"<code>{path}</code>: deleted", "Nothing to render."))
        elif path.startswith("project_templates/"):
            sections += _project_sections(settings, today, path, samples)
        else:
            sections.append(_internal_section(root, path))
    return sections


def note_body(iid: int, check: CheckResult, sections: list[Section], changed: int) -> str:
    """The one note of the merge request (≤ NOTE_LIMIT characters, truncated with a
    message), deterministic so that an unchanged merge request writes nothing."""
    head = [markers.marker(PREVIEW_KIND, f"mr-{iid}"), "### gl-csm template preview", ""]
    if check.ok:
        head.append(
            f"`gl-csm templates check`: ok ({check.renders} rendering(s) of "
            f"{len(check.templates)} template(s))."
        )
    else:
        head.append(f"`gl-csm templates check` failed: {len(check.problems)} problem(s).")
        head += [""] + [f"- {inline(p)}" for p in check.problems]
    head += [""]
    if changed:
        head.append(
            f"{changed} template file(s) changed; rendered for one sample account of every segment:"
        )
    else:
        head.append("This merge request changes no template: nothing to preview.")
    text = "\n".join(head)
    if len(text) > NOTE_LIMIT:
        return inert_commands(
            text[: NOTE_LIMIT - 200] + "\n\n**Truncated**: too many problems to list."
        )
    for shown, section in enumerate(sections):
        block = "\n\n" + section.to_markdown()
        if len(text) + len(block) + 300 > NOTE_LIMIT:
            text += (
                f"\n\n**Preview truncated**: {shown} of {len(sections)} rendering(s) shown "
                f"(a note holds at most {NOTE_LIMIT:,} characters). Run "
                "`gl-csm templates preview ACCOUNT` locally for the rest."
            )
            break
        text += block
    # The note compared with the stored one must be what the gateway sends.
    return inert_commands(text + "\n")


def plan_mr_preview(
    gateway: Gateway, settings: Settings, today: date, project: str, iid: int
) -> Plan:
    """Plan the MR note (create, update in place, or nothing); exit 1 when check fails."""
    from gl_csm.registry import load_registry

    if gateway.merge_request(project, iid) is None:
        raise UsageError(f"merge request !{iid} not found in project {project}")
    changed = changed_templates(gateway.merge_request_diffs(project, iid))
    check = check_templates(settings, today)
    notes = gateway.notes(project, iid, kind="merge_requests")
    mine = markers.index_by_marker(notes, PREVIEW_KIND, field="body").get(f"mr-{iid}")
    plan = Plan()
    if changed or not check.ok or mine is not None:
        samples = sample_accounts(load_registry(settings.accounts_dir).accounts)
        sections = preview_sections(settings, today, changed, samples) if changed else []
        body = note_body(iid, check, sections, len(changed))
        _plan_note(plan, gateway, project, iid, body, mine, len(sections))
    else:
        plan.notes.append(f"{project}!{iid} changes no template: no note.")
    for problem in check.problems:
        plan.fail(None, f"templates check: {problem}")
    return plan


def _plan_note(
    plan: Plan, gateway: Gateway, project: str, iid: int, body: str, mine: dict | None, n: int
) -> None:
    target = f"{project}!{iid}"
    token = markers.token(PREVIEW_KIND, f"mr-{iid}")
    if mine is None:
        plan.add(
            "create-note",
            target,
            f"template preview ({n} rendering(s))",
            lambda gw, _r: gw.create_note(project, iid, body, token, kind="merge_requests"),
        )
    elif (mine.get("body") or "").rstrip() != body.rstrip():
        note_id = mine["id"]
        plan.add(
            "update-note",
            target,
            f"template preview ({n} rendering(s))",
            lambda gw, _r: gw.update_note(project, iid, note_id, body, kind="merge_requests"),
        )
