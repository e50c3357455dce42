"""Evidence from the collaboration projects (SPEC 4.1) and time to value (handbook 004).

The registry is typed by people; the collaboration project shows what happened. This
module folds the issues and the closed milestones two listings returned into an
account's evidence (kept in the tracking card's hidden data between runs, since a
listing returns only what was updated since the last run), applies the evidence to the
account the assessment reads, and computes the time-to-value figures. Pure: the caller
passes today, the issues and the milestones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from gl_csm.domain.account import Account

#: The label of the Meeting-agenda template (project_templates/*/manifest.yml).
MEETING_LABEL = "meeting"
#: Issue and milestone keys of the project templates (their hidden markers).
ONBOARDING_CHECKLIST = "onboarding-checklist"
#: handbook 004: the time-to-value KPIs measured on a milestone closed, by template key.
MILESTONE_KPIS: tuple[tuple[str, str], ...] = (
    ("Infrastructure Ready", "infrastructure-ready"),
    ("Outcome Achieved", "outcome-achieved"),
)
_MILESTONE_NAMES = frozenset(kpi for kpi, _ in MILESTONE_KPIS)
#: handbook 004 "First Value": "achieved when a customer activates 10% of their licenses".
FIRST_VALUE_SHARE = 0.10
_TITLE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")
_OPEN_BOX = re.compile(r"^\s*[-*] \[ \]", re.M)
_DONE_BOX = re.compile(r"^\s*[-*] \[[xX]\]", re.M)
_MARKER = re.compile(r"<!--\s*gl-csm:([a-z0-9][a-z0-9._/-]*):([a-z0-9][a-z0-9._/:-]*)\s*-->")


def _day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _pair(value: object) -> tuple[date, str] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        day = _day(value[0])
        if day is not None and isinstance(value[1], str):
            return day, value[1]
    return None


def _watched(value: object) -> tuple[date, str, int] | None:
    if isinstance(value, list | tuple) and len(value) == 3:
        pair = _pair(value[:2])
        if pair is not None and isinstance(value[2], int):
            return pair[0], pair[1], value[2]
    return None


@dataclass(frozen=True)
class Evidence:
    """What the collaboration project showed, each fact with the issue it came from
    (``path#iid``). Kept in the card's hidden data (:meth:`to_data`)."""

    #: The last day a listing changed this evidence (the next listing reads from there).
    read: date | None = None
    last_call: tuple[date, str] | None = None
    first_call: tuple[date, str] | None = None
    #: Meeting issues whose date has not passed yet: ref -> date.
    upcoming: Mapping[str, date] = field(default_factory=dict)
    onboarding: tuple[date, str] | None = None
    #: Milestone key -> the day it was closed (its ``updated_at`` when first listed
    #: closed: GitLab has no ``closed_at`` on milestones) and the milestone's title.
    milestones: Mapping[str, tuple[date, str]] = field(default_factory=dict)
    #: Open customer issues without a reply from the team: ref -> (opened, title, the
    #: notes it had when last listed: any note may be the team's reply).
    watch: Mapping[str, tuple[date, str, int]] = field(default_factory=dict)
    #: Customer issues the CSM was told about (once per issue).
    told: tuple[str, ...] = ()
    #: The first day triage saw 10% of the licensed seats active, having seen fewer.
    first_value: date | None = None
    #: The day triage first saw the seats, when 10% were already active then: First
    #: Value was reached before, on a day nobody recorded (not a time to value).
    first_value_before: date | None = None
    #: Triage saw fewer than 10% of the licensed seats active (a crossing is then seen).
    seats_below: bool = False

    def to_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.read:
            out["read"] = self.read.isoformat()
        for key in ("last_call", "first_call", "onboarding"):
            pair = getattr(self, key)
            if pair is not None:
                out[key] = [pair[0].isoformat(), pair[1]]
        if self.upcoming:
            out["upcoming"] = {k: v.isoformat() for k, v in sorted(self.upcoming.items())}
        if self.milestones:
            out["milestones"] = {
                k: [d.isoformat(), t] for k, (d, t) in sorted(self.milestones.items())
            }
        if self.watch:
            out["watch"] = {k: [d.isoformat(), t, n] for k, (d, t, n) in sorted(self.watch.items())}
        if self.told:
            out["told"] = sorted(self.told)
        if self.first_value:
            out["first_value"] = self.first_value.isoformat()
        if self.first_value_before:
            out["first_value_before"] = self.first_value_before.isoformat()
        if self.seats_below:
            out["seats_below"] = True
        return out

    @classmethod
    def from_data(cls, data: object) -> Evidence:
        """The evidence a card recorded (empty when none or unreadable)."""
        if not isinstance(data, Mapping):
            return cls()

        def mapping(key: str) -> Mapping[str, Any]:
            value = data.get(key)
            return value if isinstance(value, Mapping) else {}

        upcoming = {k: d for k, v in mapping("upcoming").items() if (d := _day(v))}
        milestones = {k: p for k, v in mapping("milestones").items() if (p := _pair(v))}
        watch = {k: w for k, v in mapping("watch").items() if (w := _watched(v))}
        told = data.get("told")
        return cls(
            read=_day(data.get("read")),
            last_call=_pair(data.get("last_call")),
            first_call=_pair(data.get("first_call")),
            upcoming=upcoming,
            onboarding=_pair(data.get("onboarding")),
            milestones=milestones,
            watch=watch,
            told=tuple(t for t in told if isinstance(t, str)) if isinstance(told, list) else (),
            first_value=_day(data.get("first_value")),
            first_value_before=_day(data.get("first_value_before")),
            seats_below=data.get("seats_below") is True,
        )


def issue_ref(issue: Mapping[str, Any]) -> str:
    """``group/project#iid``: GitLab's full reference (doc/api/issues.md ``references``)."""
    refs = issue.get("references")
    if isinstance(refs, Mapping) and isinstance(refs.get("full"), str):
        return refs["full"]
    return f"{issue.get('project_id')}#{issue.get('iid')}"


def meeting_day(issue: Mapping[str, Any]) -> date | None:
    """The date of a meeting issue: the Meeting-agenda template's title date
    ("<Meeting name> - YYYY-MM-DD"), else its due date."""
    found = _TITLE_DATE.search(str(issue.get("title") or ""))
    return _day(found.group(1)) if found else _day(issue.get("due_date"))


def _template_key(text: object) -> str | None:
    """The project template's key of a bot issue or milestone (its hidden marker)."""
    for kind, key in _MARKER.findall(str(text or "")):
        if kind.startswith("project-") and "/" in key:
            return key.split("/", 1)[1]
    return None


def _checklist_done(issue: Mapping[str, Any]) -> date | None:
    """handbook 004 Onboarding: "all the onboarding tasks are done": the checklist
    closed, or every box of it ticked."""
    if issue.get("state") == "closed":
        return _day(issue.get("closed_at")) or _day(issue.get("updated_at"))
    text = str(issue.get("description") or "")
    if _DONE_BOX.search(text) and not _OPEN_BOX.search(text):
        return _day(issue.get("updated_at"))
    return None


def _later(a: tuple[date, str] | None, b: tuple[date, str] | None) -> tuple[date, str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b[0] > a[0] else a


def _earlier(a: tuple[date, str] | None, b: tuple[date, str] | None) -> tuple[date, str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b[0] < a[0] else a


def fold(
    previous: Evidence,
    issues: Iterable[Mapping[str, Any]],
    *,
    team: Iterable[str],
    today: date,
) -> Evidence:
    """``previous`` with the issues of the account's project a listing returned.

    A meeting counts once its date has passed (SPEC 4.1); a meeting still ahead is kept
    in ``upcoming`` and counted the day its date passes, since it will not be listed
    again unless someone edits it. A customer's open issue (written by someone outside
    the account team) is watched until the team replies or it is closed.
    """
    team = {t for t in team if t}
    upcoming = dict(previous.upcoming)
    watch = dict(previous.watch)
    last, first, onboarding = previous.last_call, previous.first_call, previous.onboarding
    told = list(previous.told)
    for issue in issues:
        ref = issue_ref(issue)
        labels = [str(label).lower() for label in issue.get("labels") or []]
        key = _template_key(issue.get("description"))
        if MEETING_LABEL in labels:
            day = meeting_day(issue)
            upcoming.pop(ref, None)
            if day is not None and day < today:
                last, first = _later(last, (day, ref)), _earlier(first, (day, ref))
            elif day is not None:
                upcoming[ref] = day
        if key == ONBOARDING_CHECKLIST or str(issue.get("title") or "").strip().lower() == (
            "onboarding checklist"
        ):
            done = _checklist_done(issue)
            if done is not None and onboarding is None:
                onboarding = (done, ref)
        author = (issue.get("author") or {}).get("username")
        # A meeting agenda is not a question waiting for an answer.
        by_customer = author not in team and key is None and MEETING_LABEL not in labels
        if by_customer and issue.get("state") == "opened" and ref not in previous.told:
            opened = _day(issue.get("created_at"))
            notes = issue.get("user_notes_count")
            if opened is not None:
                watch[ref] = (
                    opened,
                    str(issue.get("title") or ""),
                    notes if isinstance(notes, int) else 0,
                )
        elif ref in watch:
            watch.pop(ref)
        if ref in told and issue.get("state") == "closed":
            told.remove(ref)  # the record of a note is kept only while the issue is open
    # Meetings whose date passed since they were listed.
    for ref, day in list(upcoming.items()):
        if day < today:
            last, first = _later(last, (day, ref)), _earlier(first, (day, ref))
            upcoming.pop(ref)
    return replace(
        previous,
        last_call=last,
        first_call=first,
        upcoming=upcoming,
        onboarding=onboarding,
        watch=watch,
        told=tuple(told),
    )


def fold_milestones(previous: Evidence, milestones: Iterable[Mapping[str, Any]]) -> Evidence:
    """``previous`` with the closed milestones of the account's project a listing of the
    group's milestones returned (doc/api/group_milestones.md): a template milestone
    (its hidden marker) of a time-to-value KPI records the day it closed, once.

    GitLab keeps no ``closed_at`` on a milestone (lib/api/entities/milestone.rb): the
    day is its ``updated_at`` when it is first listed closed, the day it was closed
    unless someone edited it again before the bot's next run."""
    kpis = {key for _, key in MILESTONE_KPIS}
    found = dict(previous.milestones)
    for milestone in milestones:
        if milestone.get("state") != "closed":
            continue
        key = _template_key(milestone.get("description"))
        closed = _day(milestone.get("updated_at"))
        if key in kpis and closed is not None and key not in found:
            assert key is not None
            found[key] = (closed, str(milestone.get("title") or key))
    if found == dict(previous.milestones):
        return previous
    return replace(previous, milestones=found)


def settle(evidence: Evidence, ref: str, *, told: bool) -> Evidence:
    """A watched issue leaves the watch: the team replied, or the CSM was told."""
    watch = {k: v for k, v in evidence.watch.items() if k != ref}
    return replace(evidence, watch=watch, told=(*evidence.told, ref) if told else evidence.told)


def business_days_between(start: date, end: date) -> int:
    """Weekdays after ``start`` up to ``end`` (Monday to Friday)."""
    days, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days += 1
    return days


def waiting(evidence: Evidence, today: date, reply_days: int) -> list[tuple[str, date, str, int]]:
    """The watched customer issues past ``reply_days`` business days:
    (ref, opened, title, notes when last listed)."""
    return [
        (ref, opened, title, notes)
        for ref, (opened, title, notes) in sorted(evidence.watch.items())
        if ref not in evidence.told and business_days_between(opened, today) >= reply_days
    ]


def with_first_value(evidence: Evidence, account: Account, today: date) -> Evidence:
    """Record the first day 10% of the licensed seats were active (handbook 004). Only a
    crossing the bot saw is a date: seats already past 10% the first time it looks give
    "reached before" that day (a customer of years is not "1,971 days to first value")."""
    if evidence.first_value or evidence.first_value_before or account.customer_since is None:
        return evidence
    seats = account.seats
    if not seats.licensed or seats.active is None:
        return evidence
    if seats.active / seats.licensed < FIRST_VALUE_SHARE:
        return evidence if evidence.seats_below else replace(evidence, seats_below=True)
    if evidence.seats_below:
        return replace(evidence, first_value=today, seats_below=False)
    return replace(evidence, first_value_before=today)


@dataclass(frozen=True)
class Applied:
    """The account the assessment reads, and where each value came from."""

    account: Account
    #: (registry key, value, source issue ref) for each value GitLab's evidence set.
    sources: tuple[tuple[str, date, str], ...] = ()


def apply(account: Account, evidence: Evidence) -> Applied:
    """SPEC 4.1: a meeting newer than the registry's `engagement.last_call` sets it; a
    done onboarding checklist sets `onboarding_completed` when the registry has none."""
    sources: list[tuple[str, date, str]] = []
    if evidence.last_call is not None:
        day, ref = evidence.last_call
        current = account.engagement.last_call
        if current is None or day > current:
            account = replace(
                account,
                engagement=replace(account.engagement, last_call=day),
                has_engagement=True,
            )
            sources.append(("engagement.last_call", day, ref))
    if evidence.onboarding is not None and account.onboarding_completed is None:
        day, ref = evidence.onboarding
        if account.customer_since is None or day >= account.customer_since:
            account = replace(account, onboarding_completed=day)
            sources.append(("onboarding_completed", day, ref))
    return Applied(account, tuple(sources))


@dataclass(frozen=True)
class TimeToValue:
    """handbook 004: calendar days from the initial transaction to each KPI."""

    kpi: str
    day: date | None
    days: int | None
    source: str = ""
    #: Reached before this day, on a day nobody recorded (no day count).
    before: date | None = None

    def text(self) -> str:
        """The figure in words: "2026-12-07 (28 days)", "not recorded yet", or reached
        before a day (no day count)."""
        if self.day is not None and self.kpi in _MILESTONE_NAMES and self.source:
            return (
                f'{self.day.isoformat()} ({self.days} days): the milestone "{self.source}" closed'
            )
        if self.day is not None:
            return f"{self.day.isoformat()} ({self.days} days)"
        if self.before is not None and self.kpi == "First Value":
            return (
                f"reached before {self.before.isoformat()} (when the bot first saw the "
                f"seats): no day count"
            )
        if self.before is not None:
            return (
                f"reached by {self.before.isoformat()} (the registry's last call; no "
                f"meeting issue): no day count"
            )
        return "not recorded yet"


TTV_KPIS: tuple[str, ...] = (
    "Engagement",
    "Onboarding",
    "Infrastructure Ready",
    "First Value",
    "Outcome Achieved",
)


def time_to_value(account: Account, evidence: Evidence) -> tuple[TimeToValue, ...]:
    """Each KPI with its day (None: not reached, or not known) and the days it took from
    `customer_since`. Onboarding uses the registry's date when it is set."""
    start = account.customer_since
    if start is None:
        return ()
    onboarding: tuple[date, str] | None = evidence.onboarding
    if account.onboarding_completed is not None:
        onboarding = (account.onboarding_completed, "registry")
    found: dict[str, tuple[date, str] | None] = {
        "Engagement": evidence.first_call,
        "Onboarding": onboarding,
        "First Value": (evidence.first_value, "seats") if evidence.first_value else None,
    }
    # A call the registry records with no meeting issue before it (a customer of
    # before the collaboration project): engaged before that day, on a day unknown.
    before = {
        "First Value": evidence.first_value_before,
        "Engagement": account.engagement.last_call,
    }
    for kpi, key in MILESTONE_KPIS:
        m = evidence.milestones.get(key)
        found[kpi] = (m[0], m[1]) if m else None
    out = []
    for kpi in TTV_KPIS:
        pair = found.get(kpi)
        if pair is None:
            out.append(TimeToValue(kpi, None, None, before=before.get(kpi)))
        else:
            out.append(TimeToValue(kpi, pair[0], max(0, (pair[0] - start).days), pair[1]))
    return tuple(out)


def median(values: Iterable[int]) -> float | None:
    """The median of day counts (None when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def _quartile(ordered: list[int], q: float) -> float:
    """The ``q`` quantile of sorted day counts (linear between the closest ranks)."""
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class TtvSummary:
    """One segment's figures for one KPI across the portfolio (handbook 004)."""

    segment: str
    kpi: str
    customers: int
    reached: int
    median: float | None
    p25: float | None
    p75: float | None
    fastest: int | None
    slowest: int | None


def ttv_summary(rows: Iterable[tuple[str, Mapping[str, int | None]]]) -> tuple[TtvSummary, ...]:
    """Per segment and KPI: how many customers reached it, and the median, middle half
    and range of their days. ``rows``: (segment, KPI -> days or None) per paying
    customer (pre-sales accounts have no time to value)."""
    by_segment: dict[str, list[Mapping[str, int | None]]] = {}
    for segment, figures in rows:
        if figures:
            by_segment.setdefault(segment, []).append(figures)
    out = []
    for segment in sorted(by_segment):
        customers = by_segment[segment]
        for kpi in TTV_KPIS:
            days = sorted(d for f in customers if isinstance(d := f.get(kpi), int))
            out.append(
                TtvSummary(
                    segment,
                    kpi,
                    len(customers),
                    len(days),
                    median(days),
                    _quartile(days, 0.25) if days else None,
                    _quartile(days, 0.75) if days else None,
                    days[0] if days else None,
                    days[-1] if days else None,
                )
            )
    return tuple(out)


def _days(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def time_to_value_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """SPEC 4.1, handbook 004: per segment and time-to-value KPI, the customers who
    reached it, the median days and their spread (the triage rows' ``time_to_value``)."""
    figures = []
    for r in rows:
        ttv = r.get("time_to_value")
        if isinstance(ttv, Mapping) and ttv:
            days = {k: v for k, v in ttv.items() if isinstance(v, int) or v is None}
            figures.append((str(r.get("segment") or "-"), days))
    return [
        {
            "segment": t.segment,
            "kpi": t.kpi,
            "reached": f"{t.reached} of {t.customers}",
            "median": _days(t.median),
            "middle": "-" if t.p25 is None else f"{_days(t.p25)}–{_days(t.p75)}",
            "range": "-" if t.fastest is None else f"{t.fastest}–{t.slowest}",
        }
        for t in ttv_summary(figures)
    ]
