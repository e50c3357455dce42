"""Templates as data (ARCHITECTURE rule 5): Jinja2 rendered sandboxed and strict.

Bodies are rendered in a ``SandboxedEnvironment`` with ``StrictUndefined`` (an unknown
variable is an error, never an empty string). Every value a template interpolates is
*neutralised* before it lands in Markdown, unless the bot itself marked it
:class:`Trusted` (a mention it means to make, a link it built): text that comes from
accounts or people must not

* run a GitLab quick action (a line starting with ``/``, doc/user/project/quick_actions.md),
* mention anyone (``@all``, ``@user``: notifications are the bot's decision, SPEC 5.1),
* forge or hide a bot marker (``<!-- gl-csm:... -->``, ARCHITECTURE rule 3).

Doing this in ``finalize`` rather than with a filter means a template author cannot
forget it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment

from gl_csm.domain.account import is_username
from gl_csm.errors import GlCsmError
from gl_csm.services.collaboration import phase_sections, team_sections

ZWSP = "\u200b"  # breaks a mention or a quick action without changing what a reader sees
# GitLab's reference filters (lib/banzai/filter/references/*) turn these prefixes into
# references that reach another object when a name or number follows: @user and @all
# are notified, and #issue, !merge request and &epic each get a "mentioned in" system
# note (app/models/concerns/mentionable.rb ``referenced_mentionables``: issues, merge
# requests, commits, epics), with the title of where the text is. ~label, %milestone
# and $snippet only render a link and reach nothing (and "$650,000" is money, not
# snippet 650 of anyone's concern), so they are left as written. A zero-width space
# after the prefix breaks the reference; the reader sees the text as written.
_REFERENCE = re.compile(r"([@#!&])(?=[A-Za-z0-9_\"])")


class Trusted(str):
    """Text the bot produced itself and means literally (mentions, links, markers)."""


class TemplateRenderError(GlCsmError):
    """A template that does not render: names the template and the problem."""

    exit_code = 2


# Markdown punctuation that lets text reach beyond itself: [ ] a link (GitLab's
# reference filter skips link text, so a mention inside it is dead), | a table cell,
# \ escapes the next character (the template's own). A backslash makes each a literal
# character (CommonMark "Backslash escapes": any ASCII punctuation).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\\[\]|])")
_BACKTICKS = re.compile(r"`+")
_FENCE_LINE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)


def _code_stays_inside(text: str) -> bool:
    """Whether every code span of ``text`` opens and closes inside it (CommonMark: a run
    of N backticks closes at the next run of exactly N) and it has no fence line: then
    its backticks can hide nothing around it and are left as written (`region`)."""
    if _FENCE_LINE.search(text):
        return False
    open_run = 0
    for run in _BACKTICKS.findall(text):
        if not open_run:
            open_run = len(run)
        elif len(run) == open_run:
            open_run = 0
    return open_run == 0


def neutralise(value: object) -> str:
    """Make registry or user text inert in GitLab Markdown (see module docstring): it
    shows as written but opens no code span, fence, link, HTML element or comment,
    mentions nobody and runs no quick action, whatever surrounds it."""
    text = str(value)
    return _neutralised_short(text) if len(text) <= _SHORT else _neutralised(text)


#: A pure function of the text: a run neutralises the same names and titles for every
#: text of an account (its card, each reminder's link to the tracking issue); those
#: short texts are neutralised once, a long one (a person's note) every time.
_SHORT = 200


@lru_cache(maxsize=4096)
def _neutralised_short(value: str) -> str:
    return _neutralised(value)


def _neutralised(value: str) -> str:
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)
    if not _code_stays_inside(text):
        # A code span or fence that would run past the value: every ` and ~ literal.
        text = text.replace("`", "\\`").replace("~", "\\~")
    # A character reference (&#64; &#x40; &commat; &num;) would become the character
    # it names once rendered, and GitLab's reference filters run on the rendered text
    # (a mention written "&#64;all" notifies everyone): "&" escaped keeps it as written.
    # References first, so the "&" of the escapes below is not broken in its turn.
    text = _REFERENCE.sub(lambda m: m.group(1) + ZWSP, text)
    text = text.replace("&", "&amp;")
    # A bot marker is an HTML comment: escaping `<` stops any comment or tag.
    text = text.replace("<", "&lt;")
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("/"):
            # A backslash escapes the slash in Markdown: shown as "/close", never run.
            lines[i] = line[: len(line) - len(stripped)] + "\\" + stripped
    return "\n".join(lines)


# GitLab deletes every "\r" before it looks for commands (extractor.rb, perform_regex), so
# "\r/close" at a line start is a command too.
_COMMAND_START = re.compile(r"^(?=\r*/)", re.MULTILINE)


def inert_commands(text: str) -> str:
    """``text`` with no line GitLab could run as a quick action: a zero-width space goes
    before every line that starts with ``/``. GitLab's extractor only runs a command at
    the very start of a line (lib/gitlab/quick_actions/extractor.rb), so this holds in
    every context (prose, a fence of any length, a table, HTML), and the reader still
    sees ``/close``. Idempotent; applied by the gateway to every description and note
    the bot writes, and by whoever compares such a text with what GitLab stored."""
    return _COMMAND_START.sub(ZWSP, text)


def inline(value: object) -> str:
    """A value that must stay on one line (a name in a title or a table cell): its
    line breaks would end a table row or start a block. Text the bot trusts (a link
    it built, a mention it means) keeps its meaning, only not its line breaks."""
    if isinstance(value, Trusted):
        return Trusted(" ".join(value.split()))
    return neutralise(" ".join(str(value).split()))


# GitLab's full reference of an issue, ``group/subgroup/project#iid`` (doc/api/issues.md
# ``references.full``; path characters of doc/user/reserved_names.md "Limitations on
# usernames, project, and group names": letters, digits, "_", "-", ".").
_FULL_REFERENCE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)+#[0-9]+")


def reference(value: object) -> str:
    """An issue reference the bot writes so GitLab links it: kept as written when it is
    exactly a full reference (nothing else can ride along), else neutralised like any
    text (it may have come back from text people can edit)."""
    text = str(value)
    return Trusted(text if _FULL_REFERENCE.fullmatch(text) else neutralise(text))


def cell(value: object) -> object:
    """A value in a Markdown table row: one line, ``|`` escaped. Text the bot trusts
    (a mention, a link) keeps its meaning but not its line breaks."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return Trusted(inline(value))


class _TableCells(Extension):
    """Every ``{{ value }}`` on a template line that is a table row (starts with ``|``)
    goes through :func:`cell`, so a template author cannot forget that a newline in a
    registry value ends the row and lets the rest of the value start a block."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return "\n".join(
            _EXPRESSION.sub(r"{{\1 (\2) | cell \3}}", line)
            if line.lstrip().startswith("|")
            else line
            for line in source.split("\n")
        )


_EXPRESSION = re.compile(r"\{\{(-?)\s*(.+?)\s*(-?)\}\}")


def safe_title(text: str) -> str:
    """An issue title from registry text: one line, no mention or reference (GitLab
    notifies @names and cross-references #, !, & in titles too: Issue
    ``attr_mentionable :title``), at most 255 characters. Titles are not Markdown, but
    their entities are decoded (the single-line pipeline): a character reference to
    one of the prefixes gets a zero-width space after its "&" as well."""
    one_line = " ".join(str(text).split())
    return _REFERENCE.sub(lambda m: m.group(1) + ZWSP, one_line)[:255]


def mention(username: str | None) -> Trusted:
    """A real mention of a GitLab user (the bot decided to notify them)."""
    if not username:
        return Trusted("")
    if not is_username(username):
        raise TemplateRenderError(f"not a GitLab username (or a reserved one): {username!r}")
    return Trusted("@" + username)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Trusted):
        return value
    if isinstance(value, bool | int | float):
        return value
    return neutralise(value)


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        extensions=[_TableCells],
    )
    env.filters["inline"] = lambda v: Trusted(inline(v))
    env.filters["cell"] = cell
    env.filters["reference"] = reference
    env.filters["mention"] = mention
    env.globals["mention"] = mention
    return env


_ENV = environment()


@cache
def _compiled(source: str) -> Template:
    """Compiling is most of the cost of a render: once per distinct text and run."""
    return _ENV.from_string(source)


def render(source: str, context: Mapping[str, Any], *, name: str = "<template>") -> str:
    """Render a template text; any template problem names the template."""
    try:
        return _compiled(source).render(**context)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{name}:{line}" if line else name
        raise TemplateRenderError(f"{where}: {exc.__class__.__name__}: {exc}") from None


# -- project template manifests (SPEC 5 Onboard, Template review) -------------------
#
# A collaboration project template is a folder of `project_templates/` holding a
# `manifest.yml` (what the project is made of: files, labels, milestones, issues,
# members by role) and the Jinja2 files it names. Loading validates everything up
# front, so `gl-csm onboard` never fails half-way on a bad template, and every error
# names the file and the key (`project_templates/enterprise/manifest.yml: key
# 'issues[2].milestone': ...`).

PHASES: tuple[str, ...] = ("pre-sales", "post-sales", "any")
#: Which customers an item is for (handbook 003: "All customers are to be taken through
#: the appropriate playbook (New, Existing Customer)"): a customer who paid and is past
#: onboarding on the day the project is made gets the existing-customer variant.
CUSTOMERS: tuple[str, ...] = ("new", "existing", "any")
ROLES: tuple[str, ...] = ("csm", "sa", "ae", "pse")
ACCESS_LEVELS: dict[str, int] = {
    "guest": 10,
    "reporter": 20,
    "developer": 30,
    "maintainer": 40,
    "owner": 50,
}
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_FILE_PATH_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-]*(/[A-Za-z0-9_.][A-Za-z0-9_.\-]*)*$")
MANIFEST = "manifest.yml"
#: Label prefixes of the internal taxonomy (SPEC 6): never on a customer-visible project.
INTERNAL_LABEL_PREFIXES: tuple[str, ...] = (
    "priority::",
    "health::",
    "sentiment::",
    "lifecycle::",
    "segment::",
    "triage::",
    "escalation::",
    "escalation-severity::",
    "action::",
    "risk-type::",
    "risk-reason::",
    "risk-impact::",
)


class ManifestError(GlCsmError):
    """A template manifest that is not valid: names the file, the key and the problem."""

    exit_code = 2


@dataclass(frozen=True)
class Due:
    """A date relative to the start of a phase: days, calendar months, or the
    segment's onboarding window (SPEC 3, *(config)* ``rules.onboarding_window_days``);
    or the account's next Executive Business Review (SPEC 5.2, ``next_ebr``), which
    the caller resolves from the account (see project_state.desired_state)."""

    days: int = 0
    months: int = 0
    onboarding_window: bool = False
    next_ebr: bool = False

    def resolve(self, start: date, window_days: int, next_ebr: date | None = None) -> date:
        from dateutil.relativedelta import relativedelta

        if self.next_ebr:
            # The caller knows the account's EBR cadence; without it, month 6 (SPEC 5.2).
            return next_ebr or start + relativedelta(months=6)
        day = start + relativedelta(months=self.months) + timedelta(days=self.days)
        if self.onboarding_window:
            day += timedelta(days=window_days)
        return day

    def describe(self) -> str:
        if self.next_ebr:
            return "the next Executive Business Review"
        if self.onboarding_window:
            return "end of the onboarding window"
        if self.months:
            return f"{self.months} month" + ("s" if self.months != 1 else "")
        return f"{self.days} day" + ("s" if self.days != 1 else "")


@dataclass(frozen=True)
class FileSpec:
    path: str  # in the collaboration project's repository
    template: str  # relative to the template folder


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str


@dataclass(frozen=True)
class MilestoneSpec:
    key: str
    title: str
    phase: str
    description: str  # a Jinja2 text
    due: Due
    customers: str = "any"  # new | existing | any (CUSTOMERS)


@dataclass(frozen=True)
class IssueSpec:
    key: str
    title: str  # a Jinja2 text, rendered on one line
    template: str  # the body, relative to the template folder
    phase: str
    milestone: str | None = None
    labels: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()  # roles, first one the account has wins
    due: Due | None = None
    customers: str = "any"  # new | existing | any (CUSTOMERS)


@dataclass(frozen=True)
class MemberSpec:
    role: str
    access: str

    @property
    def access_level(self) -> int:
        return ACCESS_LEVELS[self.access]


@dataclass(frozen=True)
class Manifest:
    """One project template, validated."""

    name: str
    root: Path
    title: str
    segments: tuple[str, ...]
    phases: tuple[str, ...]  # "pre-sales" and/or "post-sales": where the template starts
    description: str  # project description, a Jinja2 text rendered on one line
    files: tuple[FileSpec, ...]
    labels: tuple[LabelSpec, ...]
    milestones: tuple[MilestoneSpec, ...]
    issues: tuple[IssueSpec, ...]
    members: Mapping[str, tuple[MemberSpec, ...]]

    @property
    def source(self) -> str:
        return str(self.root / MANIFEST)

    def milestones_for(self, phase: str, variant: str = "new") -> tuple[MilestoneSpec, ...]:
        return tuple(
            m
            for m in self.milestones
            if m.phase in (phase, "any") and m.customers in (variant, "any")
        )

    def issues_for(self, phase: str, variant: str = "new") -> tuple[IssueSpec, ...]:
        return tuple(
            i for i in self.issues if i.phase in (phase, "any") and i.customers in (variant, "any")
        )

    def members_for(self, phase: str) -> tuple[MemberSpec, ...]:
        return tuple(self.members.get(phase, ()))

    def milestone(self, key: str) -> MilestoneSpec | None:
        return next((m for m in self.milestones if m.key == key), None)

    def text(self, relative: str) -> str:
        """The source of one template file."""
        return _template_source(str(self.root / relative))


@cache
def _template_source(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read template file: {exc.strerror}") from None


class _M:
    """Validation helpers bound to one manifest file (every error names file and key)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str, got: object) -> ManifestError:
        shown = "nothing" if got is None else repr(got)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ManifestError(f"{self.source}: key '{key}': expected {expected}, got {shown}")

    def mapping(
        self, key: str, value: object, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, "a mapping", type(value).__name__ if value is not None else None)
        for k in value:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                raise ManifestError(
                    f"{self.source}: unknown key '{where}'; expected one of: {', '.join(allowed)}"
                )
        for k in required:
            if k not in value:
                where = f"{key}.{k}" if key else k
                raise ManifestError(f"{self.source}: key '{where}' is required")
        return value

    def string(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value

    def listing(self, key: str, value: object) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "a list", value)
        return value

    def choice(self, key: str, value: object, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(key, "one of " + ", ".join(allowed), value)
        return value

    def key_name(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not _KEY_RE.match(value):
            raise self.fail(key, "a key of lowercase letters, digits and dashes", value)
        return value

    def template_file(self, key: str, value: object, root: Path) -> str:
        text = self.string(key, value)
        if not _FILE_PATH_RE.match(text) or ".." in text.split("/"):
            raise self.fail(key, "a file path inside the template folder", value)
        if not (root / text).is_file():
            raise ManifestError(
                f"{self.source}: key '{key}': template file {root / text} not found"
            )
        return text

    def due(self, key: str, value: object) -> Due:
        if value == "onboarding-window":
            return Due(onboarding_window=True)
        if value == "next-ebr":
            return Due(next_ebr=True)
        m = self.mapping(key, value, ("days", "months"))
        if len(m) != 1:
            raise self.fail(
                key, "'onboarding-window', 'next-ebr' or one of {days: N}, {months: N}", value
            )
        ((unit, amount),) = m.items()
        if type(amount) is not int or amount < 0:
            raise self.fail(f"{key}.{unit}", "a non-negative integer", amount)
        return Due(**{unit: amount})


_MANIFEST_KEYS = (
    "name",
    "title",
    "segments",
    "phases",
    "description",
    "files",
    "labels",
    "milestones",
    "issues",
    "members",
)


def load_manifest(root: Path) -> Manifest:
    """Read and validate ``root/manifest.yml`` (and that every file it names exists)."""
    source = root / MANIFEST
    m = _M(str(source))
    raw = _read_manifest_yaml(source)
    data = m.mapping("", raw, _MANIFEST_KEYS, ("name", "segments", "phases", "files"))
    name = m.key_name("name", data["name"])
    if name != root.name:
        raise m.fail("name", f"the folder name {root.name!r}", name)
    from gl_csm.domain.account import SEGMENTS

    segments = tuple(
        m.choice(f"segments[{i}]", s, SEGMENTS)
        for i, s in enumerate(m.listing("segments", data["segments"]))
    )
    if not segments:
        raise m.fail("segments", "at least one segment", data["segments"])
    phases = tuple(
        m.choice(f"phases[{i}]", p, ("pre-sales", "post-sales"))
        for i, p in enumerate(m.listing("phases", data["phases"]))
    )
    if "post-sales" not in phases:
        raise m.fail("phases", "a list that includes post-sales", data["phases"])

    files = _manifest_files(m, data, root)
    labels = _manifest_labels(m, data)
    label_names = {lb.name for lb in labels}
    milestones = _manifest_milestones(m, data, phases)
    by_key = {ms.key: ms for ms in milestones}
    issues = _manifest_issues(m, data, root, phases, by_key, label_names)
    members = _manifest_members(m, data, phases, source)

    return Manifest(
        name=name,
        root=root,
        title=str(data.get("title") or name),
        segments=segments,
        phases=phases,
        description=str(data.get("description") or ""),
        files=tuple(files),
        labels=tuple(labels),
        milestones=tuple(milestones),
        issues=tuple(issues),
        members=members,
    )


def _read_manifest_yaml(source: Path) -> Any:
    """The manifest's YAML, or a clear error naming the file (and the line)."""
    import yaml

    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{source}: cannot read the manifest: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", exc)
        raise ManifestError(f"{source}{at}: not valid YAML: {problem}") from None
    return raw


def _manifest_files(m: _M, data: dict[str, Any], root: Path) -> list[FileSpec]:
    """The manifest's ``files``: each a repository path and its template."""
    files: list[FileSpec] = []
    for i, item in enumerate(m.listing("files", data["files"])):
        key = f"files[{i}]"
        f = m.mapping(key, item, ("path", "template"), ("path", "template"))
        path = m.string(f"{key}.path", f["path"])
        if not _FILE_PATH_RE.match(path):
            raise m.fail(f"{key}.path", "a repository file path", path)
        if any(x.path == path for x in files):
            raise m.fail(f"{key}.path", "a path no other file uses", path)
        files.append(FileSpec(path, m.template_file(f"{key}.template", f["template"], root)))
    return files


def _manifest_labels(m: _M, data: dict[str, Any]) -> list[LabelSpec]:
    """The manifest's ``labels``: none of them internal taxonomy."""
    labels: list[LabelSpec] = []
    for i, item in enumerate(m.listing("labels", data.get("labels"))):
        key = f"labels[{i}]"
        lb = m.mapping(key, item, ("name", "color", "description"), ("name", "color"))
        label_name = m.string(f"{key}.name", lb["name"])
        if "," in label_name:
            raise m.fail(f"{key}.name", "a label name without ','", label_name)
        if label_name.startswith(INTERNAL_LABEL_PREFIXES):
            # SPEC 1: internal vocabulary never goes on a customer-visible project.
            raise m.fail(
                f"{key}.name", "a label that is not internal taxonomy (SPEC 6)", label_name
            )
        color = lb["color"]
        if not isinstance(color, str) or not _COLOR_RE.match(color):
            raise m.fail(f"{key}.color", "a color like '#1f75cb'", color)
        if any(x.name == label_name for x in labels):
            raise m.fail(f"{key}.name", "a label name no other label uses", label_name)
        labels.append(LabelSpec(label_name, color, str(lb.get("description") or "")))
    return labels


def _manifest_milestones(
    m: _M, data: dict[str, Any], phases: tuple[str, ...]
) -> list[MilestoneSpec]:
    """The manifest's ``milestones``, each of one of the template's phases."""
    milestones: list[MilestoneSpec] = []
    for i, item in enumerate(m.listing("milestones", data.get("milestones"))):
        key = f"milestones[{i}]"
        ms = m.mapping(
            key,
            item,
            ("key", "title", "phase", "description", "due", "customers"),
            ("key", "title", "phase", "due"),
        )
        mkey = m.key_name(f"{key}.key", ms["key"])
        if any(x.key == mkey for x in milestones):
            raise m.fail(f"{key}.key", "a key no other milestone uses", mkey)
        phase = m.choice(f"{key}.phase", ms["phase"], PHASES)
        if phase != "any" and phase not in phases:
            raise m.fail(f"{key}.phase", "one of the template's phases " + ", ".join(phases), phase)
        milestones.append(
            MilestoneSpec(
                mkey,
                m.string(f"{key}.title", ms["title"]),
                phase,
                str(ms.get("description") or ""),
                m.due(f"{key}.due", ms["due"]),
                m.choice(f"{key}.customers", ms.get("customers", "any"), CUSTOMERS),
            )
        )
    return milestones


def _manifest_issues(
    m: _M,
    data: dict[str, Any],
    root: Path,
    phases: tuple[str, ...],
    by_key: dict[str, MilestoneSpec],
    label_names: set[str],
) -> list[IssueSpec]:
    """The manifest's ``issues``: their milestones and labels are the manifest's own."""
    issues: list[IssueSpec] = []
    for i, item in enumerate(m.listing("issues", data.get("issues"))):
        key = f"issues[{i}]"
        it = m.mapping(
            key,
            item,
            (
                "key",
                "title",
                "template",
                "phase",
                "milestone",
                "labels",
                "assignee",
                "due",
                "customers",
            ),
            ("key", "title", "template", "phase"),
        )
        ikey = m.key_name(f"{key}.key", it["key"])
        if any(x.key == ikey for x in issues):
            raise m.fail(f"{key}.key", "a key no other issue uses", ikey)
        phase = m.choice(f"{key}.phase", it["phase"], PHASES)
        if phase != "any" and phase not in phases:
            raise m.fail(f"{key}.phase", "one of the template's phases " + ", ".join(phases), phase)
        milestone = it.get("milestone")
        if milestone is not None:
            if milestone not in by_key:
                raise m.fail(
                    f"{key}.milestone", "the key of a milestone of this manifest", milestone
                )
            ms_phase = by_key[milestone].phase
            if ms_phase not in ("any", phase) and phase != "any":
                raise m.fail(f"{key}.milestone", f"a milestone of phase {phase} or any", milestone)
        issue_labels = tuple(
            m.string(f"{key}.labels[{j}]", lb)
            for j, lb in enumerate(m.listing(f"{key}.labels", it.get("labels")))
        )
        for j, lb in enumerate(issue_labels):
            if lb not in label_names:
                # GitLab silently creates unknown labels (doc/api/issues.md): refuse typos.
                raise m.fail(f"{key}.labels[{j}]", "a label of this manifest's labels", lb)
        assignee_raw = it.get("assignee")
        roles = (
            [assignee_raw]
            if isinstance(assignee_raw, str)
            else m.listing(f"{key}.assignee", assignee_raw)
        )
        assignee = tuple(m.choice(f"{key}.assignee", r, ROLES) for r in roles)
        due = m.due(f"{key}.due", it["due"]) if it.get("due") is not None else None
        customers = m.choice(f"{key}.customers", it.get("customers", "any"), CUSTOMERS)
        if milestone is not None and by_key[milestone].customers not in ("any", customers):
            raise m.fail(
                f"{key}.milestone", f"a milestone for {customers} customers or any", milestone
            )
        issues.append(
            IssueSpec(
                ikey,
                m.string(f"{key}.title", it["title"]),
                m.template_file(f"{key}.template", it["template"], root),
                phase,
                milestone,
                issue_labels,
                assignee,
                due,
                customers,
            )
        )
    return issues


def _manifest_members(
    m: _M, data: dict[str, Any], phases: tuple[str, ...], source: Path
) -> dict[str, tuple[MemberSpec, ...]]:
    """The manifest's ``members`` by role, for every phase of the template."""
    members: dict[str, tuple[MemberSpec, ...]] = {}
    raw_members = m.mapping("members", data.get("members") or {}, ("pre-sales", "post-sales"))
    for phase, roles_map in raw_members.items():
        if phase not in phases:
            raise m.fail(f"members.{phase}", "a phase of this template", phase)
        rm = m.mapping(f"members.{phase}", roles_map, ROLES)
        members[phase] = tuple(
            MemberSpec(role, m.choice(f"members.{phase}.{role}", access, tuple(ACCESS_LEVELS)))
            for role, access in rm.items()
        )
    for phase in phases:
        if not members.get(phase):
            raise ManifestError(f"{source}: key 'members.{phase}' is required (members by role)")
    return members


def shipped_dir(name: str) -> Path:
    """A data folder shipped with gl-csm (`project_templates`, `issue_templates`): at
    the top of a source checkout (editable install), else inside the installed
    package, where the wheel puts it (pyproject `package-dir`)."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / name
    return checkout if checkout.is_dir() else here / name


def templates_root(config_dir: Path | None = None) -> Path:
    """`project_templates/` next to the config file when it has one, else the one
    shipped with gl-csm."""
    if config_dir is not None and (config_dir / "project_templates").is_dir():
        return config_dir / "project_templates"
    return shipped_dir("project_templates")


def load_manifests(root: Path) -> dict[str, Manifest]:
    """Every template folder of ``root`` by name; each segment in exactly one template."""
    if not root.is_dir():
        raise ManifestError(f"{root}: project templates folder not found")
    found: dict[str, Manifest] = {}
    for folder in sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()):
        found[folder.name] = load_manifest(folder)
    owner: dict[str, str] = {}
    for manifest in found.values():
        for segment in manifest.segments:
            if segment in owner:
                raise ManifestError(
                    f"{manifest.source}: key 'segments': segment {segment!r} is already served "
                    f"by template {owner[segment]!r}"
                )
            owner[segment] = manifest.name
    return found


def manifest_for(manifests: Mapping[str, Manifest], segment: str) -> Manifest:
    for manifest in manifests.values():
        if segment in manifest.segments:
            return manifest
    raise ManifestError(f"no project template serves segment {segment!r}")


# -- the render context of customer-visible files -----------------------------------
#
# SPEC 1: priority, health, ARR, risk and every internal fact never reach a
# collaboration project. The context is built from an allow-list of account fields,
# so a template cannot leak what it is never given.

#: The only account fields a collaboration template sees.
COLLABORATION_FIELDS: tuple[str, ...] = ("name", "slug", "plan", "deployment", "customer_since")
ROLE_TITLES: dict[str, str] = {
    "csm": "Customer Success Manager",
    "sa": "Solutions Architect",
    "ae": "Account Executive",
    "pse": "Professional Services Engineer",
}


def profile_link(username: str, base_url: str) -> Trusted:
    """A team member as a link to their GitLab profile, the username as its text.

    Not an ``@username`` mention: the preloaded issues that name the team are created
    with the project and rewritten whenever the team changes (team_sections), and GitLab
    emails every user a created or edited issue text newly mentions
    (app/services/notification_service.rb, ``new_mentions_in_issue``: "When issue text
    is updated ... newly mentioned project team members"), so each rewrite would notify
    people who have nothing to do. A link to the profile notifies nobody and still lets
    the customer find the person (and mention them when they want an answer); the files
    use the same form. A username the link could not hold is plain text.
    """
    if not is_username(username) or not base_url:
        return Trusted(inline(username))
    return Trusted(f"[{username}]({base_url.rstrip('/')}/{username})")


def gitlab_base_url(project_url: str, project_path: str) -> str:
    """GitLab's web address, from a project's ``web_url`` (GitLab's own, so the same
    text on every run) without its path: ``https://gitlab.example.com``."""
    suffix = "/" + project_path.strip("/")
    return project_url[: -len(suffix)] if project_url.endswith(suffix) else ""


def collaboration_context(
    account: Any,
    *,
    manifest: Manifest,
    phase: str,
    project_path: str,
    project_url: str,
    start: date,
    dates: Mapping[str, date],
    variant: str = "new",
    standing: Mapping[str, Any] | None = None,
    onboarded: bool = False,
) -> dict[str, Any]:
    """What a collaboration template may use: allow-listed account fields, the team by
    role (usernames as plain text and as profile links, never mentions), the project,
    the journey dates, and for a customer past onboarding (``onboarded``, whatever
    the project was made for) where the engagement stands (``standing``: only facts
    true and fit for the customer, never ARR, health, priority or risk)."""
    customer = {name: getattr(account, name) for name in COLLABORATION_FIELDS}
    team_obj = account.team
    team = {role: getattr(team_obj, role) for role in ROLES}
    base_url = gitlab_base_url(project_url, project_path)
    contacts = [
        {
            "role": role,
            "title": ROLE_TITLES[role],
            "username": team[role],
            "profile": profile_link(team[role], base_url),
        }
        for role in ROLES
        if team[role]
    ]
    return {
        "customer": customer,
        "team": team,
        "contacts": contacts,
        "template": manifest.name,
        "template_title": manifest.title,
        "phase": phase,
        "pre_sales": phase == "pre-sales",
        # The bot's own part of a file, replaced when the phase changes (promote).
        "phase_begin": Trusted(phase_sections.begin(phase)),
        "phase_end": Trusted(phase_sections.END),
        # The bot's own parts naming the team, rewritten when the registry's team changes.
        "team_begin": Trusted(team_sections.BEGIN),
        "team_end": Trusted(team_sections.END),
        "variant": variant,
        "existing": variant == "existing",
        "onboarded": onboarded,
        "standing": dict(standing or {}),
        "project": {"path": project_path, "url": Trusted(project_url)},
        "start": start.isoformat(),
        "dates": {k: v.isoformat() for k, v in dates.items()},
        "milestones": {m.key: m.title for m in manifest.milestones},
    }


def render_one_line(source: str, context: Mapping[str, Any], *, name: str) -> str:
    """A title or description line: rendered, then collapsed onto one line."""
    return " ".join(render(source, context, name=name).split())
