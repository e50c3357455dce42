"""The account registry model (SPEC section 2) and its validation.

Pure: `parse_account` takes the already-loaded YAML data; reading files is
`gl_csm.registry`'s job. Every problem is a `RegistryError` naming the file, the
dotted key, what was expected and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from gl_csm.domain.taxonomy import RISK_IMPACTS, RISK_REASONS, RISK_TYPES  # SPEC 6.1-6.3
from gl_csm.errors import GlCsmError

Segment = Literal["strategic", "growth", "scale", "commercial"]
Color = Literal["green", "yellow", "red"]

SEGMENTS: tuple[str, ...] = ("strategic", "growth", "scale", "commercial")
PLANS: tuple[str, ...] = ("free", "premium", "ultimate")
DEPLOYMENTS: tuple[str, ...] = ("self-managed", "saas", "dedicated")
OPPORTUNITY_TYPES: tuple[str, ...] = ("uptier", "growth")
PERSONAS: tuple[str, ...] = ("development-lead", "security-lead")
COLORS: tuple[str, ...] = ("green", "yellow", "red")
# SPEC 2: only these may be set by hand; the others are computed (SPEC 4 Lifecycle).
MANUAL_LIFECYCLES: tuple[str, ...] = ("will-churn", "churned")

# A slug is a file name and a GitLab path part: it must not climb out of accounts/
# ("../x"), start with a dash (an option to git and shells) or be empty.
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
SLUG_MAX = 100
_STAGE_RE = re.compile(r"[a-z][a-z0-9-]*")
# doc/user/reserved_names.md "Rules for usernames": letters, digits, "_", "." and "-";
# starts and ends with a letter or digit; no two special characters in a row; not
# ending in .git or .atom; at most 255 characters (Namespace::URL_MAX_LENGTH).
_USERNAME_RE = re.compile(r"[A-Za-z0-9](?:[_.-]?[A-Za-z0-9])*")
_USERNAME_SUFFIXES = (".git", ".atom")
USERNAME_MAX = 255
# Names no person's username can be: ``all`` is the mention of every member of a project
# or group (app/models/user.rb ``reference_pattern``, banzai UserReferenceFilter), the rest
# are GitLab's top-level routes (lib/gitlab/path_regex.rb TOP_LEVEL_ROUTES), which
# GitLab refuses as usernames. A registry naming one of them is a mistake, or a way to
# make the bot write ``@all``.
RESERVED_USERNAMES = frozenset(
    (
        "all",
        "-",
        "admin",
        "api",
        "assets",
        "dashboard",
        "explore",
        "files",
        "groups",
        "health_check",
        "help",
        "import",
        "jwt",
        "login",
        "oauth",
        "profile",
        "projects",
        "public",
        "s",
        "search",
        "sitemap",
        "snippets",
        "unsubscribes",
        "uploads",
        "users",
        "v2",
    )
)
# An account name is an issue title ("Account triage: <name>"; GitLab titles hold at most
# 255 characters, app/models/concerns/issuable.rb) and a project name (255): refused at
# load rather than cut mid-run. No control characters but line breaks and tabs (those
# the templates neutralise, like every other character a person may paste).
NAME_MAX = 200
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VERSION_RE = re.compile(r"(\d+)(\.\d+)*")


class RegistryError(GlCsmError):
    """A bad registry file: which file, which key, what was expected, what was found."""

    def __init__(self, file: str, key: str | None, expected: str, got: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        self.got = got
        where = f"{file}: key '{key}'" if key else file
        super().__init__(f"{where}: expected {expected}, got {got}")


# ---------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Seats:
    licensed: int | None = None
    active: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Share of licensed users using each use case, 0..1."""

    as_of: date | None = None
    monthly_active: float | None = None
    scm: float | None = None
    ci: float | None = None
    devsecops: float | None = None
    cd: float | None = None


@dataclass(frozen=True, slots=True)
class Version:
    current: str | None = None
    latest: str | None = None

    def majors_behind(self) -> int | None:
        """Major releases between current and latest, None when either is unknown."""
        if self.current is None or self.latest is None:
            return None
        return _major(self.latest) - _major(self.current)

    def more_than_majors_behind(self, majors: int) -> bool:
        """Older than the same release `majors` major versions before latest: 16.3 is more
        than one major release behind 17.5 (older than 16.5), 16.5 is not. Comparing
        (major, minor) needs no assumption about how many minors a major had."""
        if self.current is None or self.latest is None:
            return False
        latest = _major_minor(self.latest)
        return _major_minor(self.current) < (latest[0] - majors, latest[1])


@dataclass(frozen=True, slots=True)
class Opportunity:
    type: str
    close_date: date | None = None


@dataclass(frozen=True, slots=True)
class SuccessPlan:
    objectives: int | None = None
    critical_initiative: bool = False
    active_use_case_planning: bool = False


@dataclass(frozen=True, slots=True)
class Engagement:
    last_call: date | None = None
    contacts: int | None = None
    personas_last_90_days: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Support:
    as_of: date | None = None
    tickets_last_30_days: int | None = None
    advised_no_ticket: bool = False
    emergency_open: bool = False
    emergency_closed_last_7_days: bool = False


@dataclass(frozen=True, slots=True)
class Sentiment:
    health: str | None = None
    needs_triage: bool = False
    updated: date | None = None


@dataclass(frozen=True, slots=True)
class Risk:
    contraction: bool = False
    types: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    impacts: tuple[str, ...] = ()
    escalation_requested: bool = False


@dataclass(frozen=True, slots=True)
class PriorityException:
    priority: int
    reason: str


@dataclass(frozen=True, slots=True)
class Team:
    csm: str | None = None
    sa: str | None = None
    ae: str | None = None
    pse: str | None = None


_EMPTY_SEATS = Seats()
_EMPTY_USAGE = Usage()
_EMPTY_VERSION = Version()
_EMPTY_SUCCESS_PLAN = SuccessPlan()
_EMPTY_ENGAGEMENT = Engagement()
_EMPTY_SUPPORT = Support()
_EMPTY_SENTIMENT = Sentiment()
_EMPTY_RISK = Risk()
_EMPTY_TEAM = Team()


@dataclass(frozen=True, slots=True)
class Account:
    """One registry file. Absent sections are empty instances, never None."""

    name: str
    segment: str
    slug: str
    source: str = ""
    region: str | None = None
    public_sector: bool = False
    digital: bool = False
    parent: str | None = None
    managed: bool = True
    arr: float | None = None
    plan: str | None = None
    deployment: str | None = None
    seats: Seats = _EMPTY_SEATS
    usage: Usage = _EMPTY_USAGE
    version: Version = _EMPTY_VERSION
    customer_since: date | None = None
    onboarding_completed: date | None = None
    renewal_date: date | None = None
    opportunities: tuple[Opportunity, ...] = ()
    growth_intent: bool = False
    success_plan: SuccessPlan = _EMPTY_SUCCESS_PLAN
    stages_adopted: tuple[str, ...] | None = None
    engagement: Engagement = _EMPTY_ENGAGEMENT
    champion_left: bool = False
    support: Support = _EMPTY_SUPPORT
    nps: int | None = None
    nps_as_of: date | None = None
    key_logo: bool = False
    channel_engaged: bool = False
    sentiment: Sentiment = _EMPTY_SENTIMENT
    risk: Risk = _EMPTY_RISK
    exception: PriorityException | None = None
    lifecycle: str | None = None
    team: Team = _EMPTY_TEAM
    project: str | None = None
    # Which sections the file had: "engagement absent" (no data) differs from
    # "engagement present without last_call" (no call recorded, SPEC 4 red).
    has_engagement: bool = False

    @property
    def pre_sales(self) -> bool:
        """SPEC 3: no `customer_since` means the account has not paid yet."""
        return self.customer_since is None


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


def _major_minor(version: str) -> tuple[int, int]:
    parts = version.split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


# ---------------------------------------------------------------- validation helpers


def show(value: object) -> str:
    """A short rendering of a YAML value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Ctx:
    """The file being parsed; raises RegistryError for it."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str | None, expected: str, value: object) -> RegistryError:
        return RegistryError(self.source, key, expected, show(value))

    def mapping(self, key: str, value: object, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "a mapping", value)
        extra = value.keys() - allowed
        if extra:
            name = sorted(str(k) for k in extra)[0]
            known = ", ".join(sorted(allowed))
            raise RegistryError(
                self.source, f"{key}.{name}" if key else name, f"one of {known}", "an unknown key"
            )
        return value

    def string(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value

    def opt_string(self, key: str, value: object) -> str | None:
        return None if value is None else self.string(key, value)

    def boolean(self, key: str, value: object) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def count(self, key: str, value: object) -> int | None:
        if value is None:
            return None
        if type(value) is not int or value < 0:
            raise self.fail(key, "a non-negative integer", value)
        return value

    def amount(self, key: str, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise self.fail(key, "a non-negative number", value)
        return value

    def ratio(self, key: str, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.fail(key, "a number between 0 and 1", value)
        return float(value)

    def day(self, key: str, value: object) -> date | None:
        if value is None:
            return None
        # YAML gives datetime.date for unquoted dates (datetime when a time is added).
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and _ISO_DATE_RE.fullmatch(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(key, "a date (YYYY-MM-DD)", value)

    def choice(self, key: str, value: object, allowed: tuple[str, ...]) -> str:
        if value not in allowed or not isinstance(value, str):
            raise self.fail(key, "one of " + ", ".join(allowed), value)
        return value

    def opt_choice(self, key: str, value: object, allowed: tuple[str, ...]) -> str | None:
        return None if value is None else self.choice(key, value, allowed)

    def choices(self, key: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "a list of " + ", ".join(allowed), value)
        return tuple(self.choice(f"{key}[{i}]", v, allowed) for i, v in enumerate(value))

    def slug(self, key: str, value: object) -> str:
        if not is_slug(value):
            raise self.fail(key, SLUG_EXPECTED, value)
        assert isinstance(value, str)
        return value

    def username(self, key: str, value: object) -> str | None:
        if value is None:
            return None
        if not is_username(value):
            raise self.fail(
                key,
                "a GitLab username (letters, digits, '_', '.', '-'; starting and ending "
                "with a letter or digit; no two of '_.-' in a row; not a reserved name "
                "such as 'all')",
                value,
            )
        assert isinstance(value, str)
        return value

    def name(self, key: str, value: object) -> str:
        text = self.string(key, value)
        if _CONTROL_RE.search(text) or len(text) > NAME_MAX:
            raise self.fail(
                key,
                f"a name of at most {NAME_MAX} characters without control characters "
                f"(GitLab's limits)",
                value,
            )
        return text

    def version(self, key: str, value: object) -> str | None:
        if value is None:
            return None
        # An unquoted 17.5 arrives as a float; its major part is still right.
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str) or not _VERSION_RE.fullmatch(value.strip()):
            raise self.fail(key, "a version like '17.5'", value)
        return value.strip()


SLUG_EXPECTED = (
    f"a slug of lowercase letters, digits and dashes, starting with a letter or digit "
    f"(at most {SLUG_MAX} characters)"
)


def is_slug(value: object) -> bool:
    """A registry slug: ``[a-z0-9][a-z0-9-]*`` (also a safe file name in accounts/)."""
    return isinstance(value, str) and len(value) <= SLUG_MAX and bool(SLUG_RE.fullmatch(value))


def is_username(value: object) -> bool:
    """A username GitLab accepts (doc/user/reserved_names.md)."""
    return (
        isinstance(value, str)
        and len(value) <= USERNAME_MAX
        and bool(_USERNAME_RE.fullmatch(value))
        and not value.lower().endswith(_USERNAME_SUFFIXES)
        and value.lower() not in RESERVED_USERNAMES
    )


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


_SEATS_KEYS = _keys("licensed", "active")
_USAGE_KEYS = _keys("as_of", "monthly_active", "scm", "ci", "devsecops", "cd")
_VERSION_KEYS = _keys("current", "latest")
_OPPORTUNITY_KEYS = _keys("type", "close_date")
_SUCCESS_PLAN_KEYS = _keys("objectives", "critical_initiative", "active_use_case_planning")
_ENGAGEMENT_KEYS = _keys("last_call", "contacts", "personas_last_90_days")
_SUPPORT_KEYS = _keys(
    "as_of",
    "tickets_last_30_days",
    "advised_no_ticket",
    "emergency_open",
    "emergency_closed_last_7_days",
)
_SENTIMENT_KEYS = _keys("health", "needs_triage", "updated")
_RISK_KEYS = _keys("contraction", "types", "reasons", "impacts", "escalation_requested")
_EXCEPTION_KEYS = _keys("priority", "reason")
_TEAM_KEYS = _keys("csm", "sa", "ae", "pse")


# ---------------------------------------------------------------- sections


def _seats(c: _Ctx, v: object) -> Seats:
    m = c.mapping("seats", v, _SEATS_KEYS)
    return Seats(
        c.count("seats.licensed", m.get("licensed")), c.count("seats.active", m.get("active"))
    )


def _usage(c: _Ctx, v: object) -> Usage:
    m = c.mapping("usage", v, _USAGE_KEYS)
    return Usage(
        as_of=c.day("usage.as_of", m.get("as_of")),
        monthly_active=c.ratio("usage.monthly_active", m.get("monthly_active")),
        scm=c.ratio("usage.scm", m.get("scm")),
        ci=c.ratio("usage.ci", m.get("ci")),
        devsecops=c.ratio("usage.devsecops", m.get("devsecops")),
        cd=c.ratio("usage.cd", m.get("cd")),
    )


def _version(c: _Ctx, v: object) -> Version:
    m = c.mapping("version", v, _VERSION_KEYS)
    return Version(
        c.version("version.current", m.get("current")), c.version("version.latest", m.get("latest"))
    )


def _opportunities(c: _Ctx, v: object) -> tuple[Opportunity, ...]:
    if not isinstance(v, list):
        raise c.fail("opportunities", "a list of {type, close_date}", v)
    result = []
    for i, item in enumerate(v):
        key = f"opportunities[{i}]"
        m = c.mapping(key, item, _OPPORTUNITY_KEYS)
        if "type" not in m:
            raise c.fail(f"{key}.type", "one of " + ", ".join(OPPORTUNITY_TYPES), None)
        result.append(
            Opportunity(
                c.choice(f"{key}.type", m["type"], OPPORTUNITY_TYPES),
                c.day(f"{key}.close_date", m.get("close_date")),
            )
        )
    return tuple(result)


def _success_plan(c: _Ctx, v: object) -> SuccessPlan:
    m = c.mapping("success_plan", v, _SUCCESS_PLAN_KEYS)
    return SuccessPlan(
        c.count("success_plan.objectives", m.get("objectives")),
        c.boolean("success_plan.critical_initiative", m.get("critical_initiative")),
        c.boolean("success_plan.active_use_case_planning", m.get("active_use_case_planning")),
    )


def _stages(c: _Ctx, v: object) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise c.fail("stages_adopted", "a list of stage names", v)
    for i, s in enumerate(v):
        if not isinstance(s, str) or not _STAGE_RE.fullmatch(s):
            raise c.fail(f"stages_adopted[{i}]", "a lowercase stage name like 'verify'", s)
    # A stage listed twice is still one stage adopted.
    return tuple(dict.fromkeys(v))


def _engagement(c: _Ctx, v: object) -> Engagement:
    m = c.mapping("engagement", v, _ENGAGEMENT_KEYS)
    personas = m.get("personas_last_90_days")
    return Engagement(
        c.day("engagement.last_call", m.get("last_call")),
        c.count("engagement.contacts", m.get("contacts")),
        None
        if personas is None
        else c.choices("engagement.personas_last_90_days", personas, PERSONAS),
    )


def _support(c: _Ctx, v: object) -> Support:
    m = c.mapping("support", v, _SUPPORT_KEYS)
    return Support(
        c.day("support.as_of", m.get("as_of")),
        c.count("support.tickets_last_30_days", m.get("tickets_last_30_days")),
        c.boolean("support.advised_no_ticket", m.get("advised_no_ticket")),
        c.boolean("support.emergency_open", m.get("emergency_open")),
        c.boolean("support.emergency_closed_last_7_days", m.get("emergency_closed_last_7_days")),
    )


def _sentiment(c: _Ctx, v: object) -> Sentiment:
    m = c.mapping("sentiment", v, _SENTIMENT_KEYS)
    return Sentiment(
        c.opt_choice("sentiment.health", m.get("health"), COLORS),
        c.boolean("sentiment.needs_triage", m.get("needs_triage")),
        c.day("sentiment.updated", m.get("updated")),
    )


def _risk(c: _Ctx, v: object) -> Risk:
    m = c.mapping("risk", v, _RISK_KEYS)
    return Risk(
        c.boolean("risk.contraction", m.get("contraction")),
        c.choices("risk.types", m.get("types"), RISK_TYPES),
        c.choices("risk.reasons", m.get("reasons"), RISK_REASONS),
        c.choices("risk.impacts", m.get("impacts"), RISK_IMPACTS),
        c.boolean("risk.escalation_requested", m.get("escalation_requested")),
    )


def _exception(c: _Ctx, v: object) -> PriorityException:
    m = c.mapping("exception", v, _EXCEPTION_KEYS)
    priority = m.get("priority")
    if type(priority) is not int or not 1 <= priority <= 4:
        raise c.fail("exception.priority", "a priority 1, 2, 3 or 4", priority)
    reason = m.get("reason")
    # SPEC 2 / handbook 001: exceptions are discussed and documented, so a reason is required.
    if not isinstance(reason, str) or not reason.strip():
        raise c.fail("exception.reason", "the reason for the priority exception", reason)
    return PriorityException(priority, reason.strip())


def _team(c: _Ctx, v: object) -> Team:
    m = c.mapping("team", v, _TEAM_KEYS)
    return Team(
        c.username("team.csm", m.get("csm")),
        c.username("team.sa", m.get("sa")),
        c.username("team.ae", m.get("ae")),
        c.username("team.pse", m.get("pse")),
    )


def _nps(c: _Ctx, v: object) -> int:
    if type(v) is not int or not 0 <= v <= 10:
        raise c.fail("nps", "an integer from 0 to 10", v)
    return v


# Top-level keys with a parser for a non-null value; null always means "not set".
_SECTIONS: dict[str, Callable[[_Ctx, object], object]] = {
    "seats": _seats,
    "usage": _usage,
    "version": _version,
    "opportunities": _opportunities,
    "success_plan": _success_plan,
    "stages_adopted": _stages,
    "engagement": _engagement,
    "support": _support,
    "sentiment": _sentiment,
    "risk": _risk,
    "exception": _exception,
    "team": _team,
    "nps": _nps,
    "region": lambda c, v: c.string("region", v),
    "parent": lambda c, v: c.slug("parent", v),
    "arr": lambda c, v: c.amount("arr", v),
    "plan": lambda c, v: c.choice("plan", v, PLANS),
    "deployment": lambda c, v: c.choice("deployment", v, DEPLOYMENTS),
    "customer_since": lambda c, v: c.day("customer_since", v),
    "onboarding_completed": lambda c, v: c.day("onboarding_completed", v),
    "renewal_date": lambda c, v: c.day("renewal_date", v),
    "nps_as_of": lambda c, v: c.day("nps_as_of", v),
    "lifecycle": lambda c, v: c.choice("lifecycle", v, MANUAL_LIFECYCLES),
    "project": lambda c, v: c.string("project", v),
}
_FLAGS = (
    "public_sector",
    "digital",
    "growth_intent",
    "champion_left",
    "key_logo",
    "channel_engaged",
)
_TOP_KEYS = frozenset(_SECTIONS) | frozenset(_FLAGS) | {"name", "slug", "segment", "managed"}


class RegistryErrors(RegistryError):
    """Every problem of one registry file (report them all, not the first)."""

    def __init__(self, errors: list[RegistryError]) -> None:
        first = errors[0]
        self.errors = tuple(errors)
        GlCsmError.__init__(self, "; ".join(str(e) for e in errors))
        self.file, self.key, self.expected, self.got = (
            first.file,
            first.key,
            first.expected,
            first.got,
        )


def parse_account(data: object, source: str, stem: str) -> Account:
    """Validate one registry file's YAML data (SPEC 2) into an Account.

    `source` is the file path shown in errors; `stem` the file name without its
    extension, the default slug. Raises RegistryError for a single problem and
    RegistryErrors (with ``errors``) when the file has several: every key is checked.
    """
    c = _Ctx(source)
    if not isinstance(data, dict):
        raise c.fail(None, "a mapping of account keys (SPEC 2)", data)
    errors: list[RegistryError] = []
    missing = object()

    def check(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except RegistryError as exc:
            errors.append(exc)
            return missing

    for extra in sorted(str(k) for k in data.keys() - _TOP_KEYS):
        errors.append(RegistryError(source, extra, "a known account key", "an unknown key"))
    if "name" not in data:
        errors.append(c.fail("name", "the account name (required)", None))
        name = missing
    else:
        name = check(lambda: c.name("name", data["name"]))
    if "segment" not in data:
        errors.append(c.fail("segment", "one of " + ", ".join(SEGMENTS) + " (required)", None))
        segment = missing
    else:
        segment = check(lambda: c.choice("segment", data["segment"], SEGMENTS))
    slug_value = data.get("slug")
    if slug_value is None:
        slug = stem
        if not is_slug(stem):
            errors.append(
                c.fail(
                    "slug",
                    SLUG_EXPECTED + " (the file name is not one; set `slug:`)",
                    stem,
                )
            )
    else:
        slug = check(lambda: c.slug("slug", slug_value))

    fields: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        parser = _SECTIONS.get(key)
        if parser is not None:
            parsed = check(lambda p=parser, v=value: p(c, v))
            if parsed is not missing:
                fields[key] = parsed
    for flag in _FLAGS:
        if flag in data:
            parsed = check(lambda f=flag: c.boolean(f, data[f]))
            if parsed is not missing:
                fields[flag] = parsed
    if "managed" in data and data["managed"] is not None:
        parsed = check(lambda: c.boolean("managed", data["managed"]))
        if parsed is not missing:
            fields["managed"] = parsed
    if errors:
        raise errors[0] if len(errors) == 1 else RegistryErrors(errors)
    if "engagement" in fields:
        fields["has_engagement"] = True
    return Account(name=name, segment=segment, slug=slug, source=source, **fields)


# Nested keys by section, for the registry reference (docs/registry.md is checked against
# this list by tests/test_docs.py, so a key added to the parser must be documented).
_NESTED_KEYS: dict[str, frozenset[str]] = {
    "seats": _SEATS_KEYS,
    "usage": _USAGE_KEYS,
    "version": _VERSION_KEYS,
    "opportunities[]": _OPPORTUNITY_KEYS,
    "success_plan": _SUCCESS_PLAN_KEYS,
    "engagement": _ENGAGEMENT_KEYS,
    "support": _SUPPORT_KEYS,
    "sentiment": _SENTIMENT_KEYS,
    "risk": _RISK_KEYS,
    "exception": _EXCEPTION_KEYS,
    "team": _TEAM_KEYS,
}


def registry_keys() -> frozenset[str]:
    """Every key a registry file may hold, dotted (``team.csm``, ``opportunities[].type``)."""
    keys = set(_TOP_KEYS)
    for section, nested in _NESTED_KEYS.items():
        keys.update(f"{section}.{name}" for name in nested)
    return frozenset(keys)
