"""The account tracking issue (SPEC 1, 4): one per account in ``projects.accounts``.

It carries the scoped labels ``priority::N``, ``health::COLOR``, ``lifecycle::STAGE`` and
``segment::NAME`` (issue boards on them are the portfolio dashboard) and, as its
description, the generated account card. The card sits between two hidden markers:
the bot rewrites only that part and keeps whatever people wrote around it, and it
keeps labels people added outside its own scopes. The card holds no timestamp, so an
unchanged account renders the same card and a rerun writes nothing.

The card also carries hidden data (``<!-- gl-csm-data {...} -->``) the triage run
needs without reading anything else: the sentiment the bot last saw and since when
(SPEC 5.2 stale health), and which one-off notes were posted on the issue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any

from gl_csm import __version__, markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment, assess
from gl_csm.domain.measure_text import health_text, measure_name, override_text
from gl_csm.domain.measures.registry import group_name, steady_text
from gl_csm.domain.taxonomy import Taxonomy
from gl_csm.errors import GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results
from gl_csm.services.card_data import DATA_RE, SORTED_JSON, card_data
from gl_csm.services.card_data import data_comment as _data_comment
from gl_csm.services.changed_parts import because, changed_names
from gl_csm.services.rendered_from import rendered_from
from gl_csm.templates import Trusted, inline, render, safe_title, shipped_dir

ISSUE_TEMPLATES = shipped_dir("issue_templates")
KIND = "tracking"
CARD_BEGIN = "<!-- gl-csm card begin: generated, edits inside are replaced -->"
CARD_END = "<!-- gl-csm card end: write your notes below -->"
#: Key of the card's hidden data recording, per open triage / escalation issue, what the
#: bot needs from its notes (services/triage/bot_issues.py).
NOTES_KEY = "notes"
#: Scopes of the tracking issue the bot owns; every other label is left alone.
BOT_SCOPES: tuple[str, ...] = ("priority", "health", "lifecycle", "segment")


@cache
def template_text(name: str) -> str:
    path = ISSUE_TEMPLATES / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GlCsmError(f"issue template {path} cannot be read: {exc.strerror}") from None


def render_template(name: str, context: Mapping[str, Any]) -> str:
    """Render one of `issue_templates/` (compiled once per run by templates.render)."""
    return render(template_text(name), context, name=f"issue_templates/{name}")


def issue_link(issue: Mapping[str, Any] | None, what: str = "") -> Trusted:
    """A Markdown link to an issue the bot found or made (its title neutralised)."""
    if not issue:
        return Trusted("")
    title = inline(issue.get("title") or "")
    url = issue.get("web_url") or ""
    prefix = f"{what}: " if what else ""
    ref = f" #{issue.get('iid')}" if issue.get("iid") is not None else ""
    return Trusted(f"{prefix}[{title}{ref}]({url})" if url else f"{prefix}{title}{ref}")


# ---------------------------------------------------------------- hidden data


def sentiment_since(
    previous: Mapping[str, Any], sentiment: str | None, today: date, registry_updated: date | None
) -> str | None:
    """When the current sentiment was first seen (SPEC 5.2 stale health, no label events read).

    A registry sentiment (no label) counts from its own ``sentiment.updated``: the
    registry says when the CSM set it, so the stale-health clock does not restart the
    day the bot first sees it. A label's sentiment keeps the recorded
    date while unchanged; a new one starts today.
    """
    if sentiment is None:
        return None
    if registry_updated is not None:
        return min(registry_updated, today).isoformat()
    since = previous.get("since") if previous.get("sentiment") == sentiment else None
    if not isinstance(since, str):
        since = today.isoformat()
    if registry_updated is not None and registry_updated.isoformat() > since:
        since = min(registry_updated, today).isoformat()
    return since


# ---------------------------------------------------------------- extra inputs


@dataclass(frozen=True)
class CardExtra:
    """What the triage run knows beyond the account: links, dates and hidden data."""

    triage: Mapping[str, Any] | None = None
    escalation: Mapping[str, Any] | None = None
    reminders: tuple[Mapping[str, Any], ...] = ()
    next_dates: tuple[tuple[str, str], ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Issues this run creates before the card is written: (role, plan results key),
    #: role "triage", "escalation" or "reminder". The card is then rendered while the
    #: change runs, with their links.
    pending: tuple[tuple[str, str], ...] = ()
    #: The will-churn checklist state (moves/will_churn.WillChurn), None when not asked.
    will_churn: Any = None
    #: Where GitLab's evidence replaced a registry value, and the time-to-value figures
    #: (services/triage/evidence.py, SPEC 4.1).
    evidence: tuple[str, ...] = ()
    time_to_value: tuple[Any, ...] = ()
    #: Text placed below the card when the issue is created: the notes due on an issue
    #: this run creates go in its create (one request per object).
    below: str = ""

    def resolved(self, results: Results) -> CardExtra:
        """This extra with the pending issues taken from the plan results."""
        triage, escalation, reminders = self.triage, self.escalation, list(self.reminders)
        churn = self.will_churn
        data = dict(self.data)
        records = dict(data.get(NOTES_KEY) or {})
        for role, key in self.pending:
            issue = results.get(key)
            if not isinstance(issue, Mapping):
                continue
            if role in records and records[role].get("iid") is None:
                # The record of an issue opened in this run: now its iid is known.
                records[role] = {**records[role], "iid": issue.get("iid")}
                data[NOTES_KEY] = records
            if role == "will-churn":
                churn = replace(churn, checklist=issue) if churn is not None else None
            elif role == "triage":
                triage = issue
            elif role == "escalation":
                escalation = issue
            else:
                reminders.append(issue)
        return replace(
            self,
            triage=triage,
            escalation=escalation,
            reminders=tuple(reminders),
            will_churn=churn,
            pending=(),
            data=data,
        )


# ---------------------------------------------------------------- labels


def bot_labels(assessment: Assessment, taxonomy: Taxonomy) -> list[str]:
    """The labels of the bot's scopes this account should carry (GitLab names)."""
    wanted = [f"lifecycle::{assessment.lifecycle}", f"segment::{assessment.account.segment}"]
    if assessment.priority.priority is not None:
        wanted.insert(0, f"priority::{assessment.priority.priority}")
    color = assessment.health_color
    if color in ("green", "yellow", "red", "unknown"):
        wanted.insert(1, f"health::{color}")
    return [taxonomy.name(c) for c in wanted]


def label_delta(
    current: Iterable[str], wanted: Iterable[str], scopes: Iterable[str], taxonomy: Taxonomy
) -> tuple[list[str], list[str]]:
    """Labels to add and to remove so that the bot's scopes hold exactly ``wanted``.

    Labels outside ``scopes`` (people's own) are never removed.
    """
    current = list(current)
    wanted = list(wanted)
    prefixes = tuple(s + "::" for s in scopes)
    remove = []
    for label in current:
        canonical = taxonomy.canonical(label)
        if canonical and canonical.startswith(prefixes) and label not in wanted:
            remove.append(label)
    add = [w for w in wanted if w not in current]
    return add, remove


def label_fields(add: list[str], remove: list[str]) -> tuple[dict[str, str], list[str]]:
    """The issue update fields of a :func:`label_delta`, and how the plan describes them."""
    fields: dict[str, str] = {}
    parts: list[str] = []
    if add:
        fields["add_labels"] = ",".join(add)
        parts.append("add " + ", ".join(add))
    if remove:
        fields["remove_labels"] = ",".join(remove)
        parts.append("remove " + ", ".join(remove))
    return fields, parts


# ---------------------------------------------------------------- the card


def money(value: object) -> str:
    """An amount for issues and reports: ``$300,000``, or ``-`` when not a number."""
    return f"${value:,.0f}" if isinstance(value, int | float) else "-"


def _measure_rows(h: Any, account: Account) -> list[dict[str, Any]]:
    """The scorecard as the card shows it: each measure's name and reading in words with
    its unit, as its definition quotes it (domain/measures/: dates, not day counts, so
    the card of an unchanged account is the same tomorrow)."""
    return [
        {
            "group": group_name(m.group),
            "name": measure_name(m.name),
            "color": m.color,
            "reading": steady_text(m, account),
            "weight": "-" if m.color is None else f"{_r(m.applied_weight):g}%",
        }
        for m in h.measures
    ]


def _override_words(override: str) -> str:
    """ "red CSM sentiment makes the account red", not "red CSM sentiment -> red"."""
    return f"{override_text(override)} makes the account {override.rsplit(' -> ', 1)[-1]}"


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _history_line(h: Any, data: Mapping[str, Any]) -> str | None:
    """ "red since 2026-10-02; score 41 → 63 in 30 days" from the portfolio history
    (services/triage/history.py); dates, not day counts, so the card stays the same."""
    parts = []
    since = data.get("health_since")
    if h is not None and isinstance(since, str):
        parts.append(f"{h.color} since {since}")
    if isinstance(data.get("score_trend"), str):
        parts.append(data["score_trend"])
    return "; ".join(parts) or None


def render_card(
    assessment: Assessment,
    settings: Settings,
    *,
    project: Mapping[str, Any] | None,
    extra: CardExtra,
) -> str:
    """The card text between the markers (hidden data included).

    The hidden data also records a digest of everything the card is rendered from
    (``card``) and of the text rendered (``text``): a rerun whose inputs have the same
    digest, on a card nobody edited, knows the card is unchanged without rendering it
    (:func:`card_unchanged`: rendering was most of a no-op rerun's time).
    """
    context, digest = _card_inputs(assessment, settings, project=project, extra=extra)
    body = render_template(CARD_TEMPLATE, context).rstrip("\n")
    return body + "\n\n" + _data_comment(_card_data(extra, digest, body))


CARD_TEMPLATE = "account_card.md.j2"


def short_hash(text: str) -> str:
    """16 hex digits of SHA-256: the digests and text hashes the bot hides in its texts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_DIGESTS = ("card", "text")


def _input_data(extra: CardExtra) -> dict[str, Any]:
    """The hidden data the card is rendered from (a caller that kept the old data
    hands its digests back: they are not inputs)."""
    return {k: v for k, v in extra.data.items() if k not in _DIGESTS}


def _card_data(extra: CardExtra, digest: str, body: str) -> dict[str, Any]:
    return {**_input_data(extra), "card": digest, "text": short_hash(body)}


def card_unchanged(
    old: str | None,
    marker_line: str,
    assessment: Assessment,
    settings: Settings,
    *,
    project: Mapping[str, Any] | None,
    extra: CardExtra,
) -> bool:
    """Whether :func:`compose_description` would give ``old`` back, known without
    rendering: the card was rendered from inputs with the same digest, and its text
    still hashes to what the bot wrote (nobody edited inside the card)."""
    if not old or old.count(marker_line) != 1:
        return False
    prefix = f"{marker_line}\n{CARD_BEGIN}\n"
    start, end = old.find(prefix), old.find(CARD_END)
    if start == -1 or end < start + len(prefix) or old[end - 1] != "\n":
        return False
    card = old[start + len(prefix) : end - 1]
    # card_data(card), from the one search the body's end is cut at as well.
    found = DATA_RE.search(card)
    if found is None:
        return False
    try:
        recorded = json.loads(found.group(1))
    except ValueError:
        return False
    if not isinstance(recorded, dict) or not isinstance(recorded.get("card"), str):
        return False
    _, digest = _card_inputs(assessment, settings, project=project, extra=extra)
    if recorded["card"] != digest:
        return False
    body = card[: found.start()].rstrip("\n")
    return card == body + "\n\n" + _data_comment(_card_data(extra, digest, body))


def _card_inputs(
    assessment: Assessment,
    settings: Settings,
    *,
    project: Mapping[str, Any] | None,
    extra: CardExtra,
) -> tuple[dict[str, Any], str]:
    """The card's template context, and the digest of everything it is rendered from:
    the context, the hidden data, the template's text and the gl-csm version."""
    a = assessment.account
    h = assessment.health
    team = a.team
    if project and project.get("web_url"):
        shown = inline(project.get("path_with_namespace") or a.project or "")
        project_link = Trusted(f"[{shown}]({project['web_url']})")
    elif a.project:
        project_link = a.project
    else:
        project_link = "- (not onboarded yet)"
    links: list[Trusted] = []
    if extra.triage:
        links.append(issue_link(extra.triage, "Triage"))
    if extra.escalation:
        links.append(issue_link(extra.escalation, "Escalation"))
    # Sorted, so the card is the same whether the issues come from a listing or were
    # just created (a rerun must render the very same card).
    for reminder in sorted(
        extra.reminders, key=lambda r: (str(r.get("due_date") or ""), r.get("iid") or 0)
    ):
        due = reminder.get("due_date")
        link = issue_link(reminder, "Reminder")
        links.append(Trusted(f"{link} (due {due})" if due else link))
    churn = extra.will_churn
    if churn is not None and churn.checklist is not None:
        links.append(issue_link(churn.checklist, "Will-churn checklist"))
    seats = a.seats
    context = {
        "account": a,
        "team": {k: getattr(team, k) or "-" for k in ("csm", "sa", "ae", "pse")},
        "lifecycle": assessment.lifecycle,
        "arr": money(a.arr),
        "seats": "-"
        if seats.licensed is None
        else f"{seats.active if seats.active is not None else '-'} active of {seats.licensed}",
        "project_link": project_link,
        "priority": assessment.priority.priority or "none (pre-sales)",
        "base_priority": assessment.base_priority.priority or "none (pre-sales)",
        "priority_reasons": list(assessment.priority.reasons),
        "health": "none (pre-sales)" if h is None else health_text(h),
        "score": None if h is None else _r(h.score),
        "health_data": h is not None,
        "sentiment": None if h is None else h.sentiment,
        "sentiment_from_label": h is not None and h.sentiment_from_label,
        "sentiment_stale": h is not None and h.sentiment_stale,
        "sentiment_since": extra.data.get("since"),
        "history": _history_line(h, extra.data),
        "measure_days": settings.rules.history.measure_days,
        "measure_changes": [
            str(w) for w in extra.data.get("measure_changes") or () if isinstance(w, str)
        ],
        "needs_triage": assessment.needs_triage,
        "measures": [] if h is None else _measure_rows(h, a),
        "groups": []
        if h is None
        else [
            {"name": group_name(g.name), "weight": f"{g.weight:g}", "score": _r(g.score)}
            for g in h.groups
        ],
        "overrides": [] if h is None else [_override_words(o) for o in h.overrides],
        "next_dates": list(extra.next_dates),
        "links": links,
        # SPEC 4: until every box is ticked the card lists the steps left.
        "will_churn_left": None if churn is None else list(churn.left),
        # SPEC 4.1: GitLab's evidence and the time to value (handbook 004).
        "evidence": list(extra.evidence),
        "time_to_value": [(t.kpi, t.text()) for t in extra.time_to_value],
    }
    # The recorded iids are not rendered: a disengage or handoff that records its
    # checklist (with_recorded_issue) must not move the digest, or the next triage
    # rewrites an unchanged card. card_unchanged still compares the hidden data itself.
    from gl_csm.services.lookup import ISSUES_KEY

    rendered = {k: v for k, v in _input_data(extra).items() if k != ISSUES_KEY}
    data = SORTED_JSON.encode(rendered)
    # Only what the card shows: of the account, the attributes the template reads (a
    # registry field the card does not show moves no digest).
    template = template_text(CARD_TEMPLATE)
    shown = rendered_from(template, context)
    # short_hash("\0".join((__version__, template, shown, data))), the version and the
    # template's text hashed once per run rather than once per account.
    digest = _hashed_prefix(template).copy()
    digest.update(f"{shown}\0{data}".encode())
    return context, digest.hexdigest()[:16]


@cache
def _hashed_prefix(template: str) -> Any:
    """SHA-256 fed with the gl-csm version and the card template's text (the start of
    every card's input digest); callers update a copy."""
    return hashlib.sha256(f"{__version__}\0{template}\0".encode())


def with_issue_iids(extra: CardExtra, old: str | None) -> dict[str, Any]:
    """The card's hidden data with the iids of the account's bot issues: those it
    recorded before (a closed reminder still counts: it must not be made again) and
    those it links now. Single-account commands find the account's issues through them
    (:mod:`gl_csm.services.lookup`), without GitLab's search."""
    from gl_csm.services.lookup import ISSUES_KEY, iids_of, merge_iids, recorded_iids

    linked: dict[str, list[int]] = {
        "triage": [int(extra.triage["iid"])] if extra.triage and extra.triage.get("iid") else [],
        "escalations": [int(extra.escalation["iid"])]
        if extra.escalation and extra.escalation.get("iid")
        else [],
        "accounts": [int(r["iid"]) for r in extra.reminders if r.get("iid")],
    }
    checklist = getattr(extra.will_churn, "checklist", None)
    if isinstance(checklist, Mapping) and checklist.get("iid"):
        linked["accounts"].append(int(checklist["iid"]))
    merged = merge_iids(
        recorded_iids({"description": old}),
        # The data's own record, as it reads back once written (not written and reparsed).
        iids_of(extra.data.get(ISSUES_KEY)),
        linked,
    )
    data = {k: v for k, v in extra.data.items() if k != ISSUES_KEY}
    if merged:
        data[ISSUES_KEY] = merged
    return data


def with_recorded_issue(description: str, role: str, iid: int) -> str | None:
    """``description`` with one more bot issue recorded in the card's hidden data (a
    disengage or handoff checklist), placed where :func:`render_card` puts the data so
    the next triage renders the very same card; None when nothing changes or the card
    markers were removed (the hint is then simply not recorded)."""
    from gl_csm.services.lookup import ISSUES_KEY, merge_iids, recorded_iids

    begin, end = description.find(CARD_BEGIN), description.find(CARD_END)
    if begin == -1 or end < begin:
        return None
    data = card_data(description)
    merged = merge_iids(recorded_iids({"description": description}), {role: [iid]})
    if data.get(ISSUES_KEY) == merged:
        return None
    comment = _data_comment({**data, ISSUES_KEY: merged})
    card = description[begin:end]
    found = DATA_RE.search(card)
    if found is not None:
        card = card[: found.start()] + comment + card[found.end() :]
    else:
        card = card.rstrip("\n") + "\n\n" + comment + "\n"
    return description[:begin] + card + description[end:]


def _card_part(description: str) -> str | None:
    begin, end = description.find(CARD_BEGIN), description.find(CARD_END)
    return description[begin:end] if begin != -1 and end > begin else None


def card_change(old: str, new: str, *, pending: bool) -> str:
    """The plan's words for a card rewrite: what differs between the old card and the
    new one (services/changed_parts.py), "refresh the account card: seats, meeting
    cadence turned yellow, next EBR"."""
    old_card, new_card = _card_part(old), _card_part(new)
    if old_card is None or new_card is None:
        names = ["the card, whose markers were gone"]
    else:
        names = changed_names(old_card, new_card)
    if pending:
        names.append("the issues opened in this run")
    return because("refresh the account card", names, "a new gl-csm version or card template")


def compose_description(marker_line: str, card: str, existing: str | None) -> str:
    """The marker, the card between its markers, then the people's text kept as it was."""
    block = f"{marker_line}\n{CARD_BEGIN}\n{card}\n{CARD_END}"
    if not existing:
        return block + "\n"
    begin, end = existing.find(CARD_BEGIN), existing.find(CARD_END)
    if begin != -1 and end > begin:
        before = existing[:begin]
        after = existing[end + len(CARD_END) :]
        # The marker line sits right before the card; keep any other text before it.
        before = before.replace(marker_line + "\n", "", 1).replace(marker_line, "", 1)
        return before + block + after
    # No card markers (a person removed them): put the card on top, keep the rest.
    rest = existing.replace(marker_line + "\n", "", 1).replace(marker_line, "", 1)
    return block + "\n\n" + rest.lstrip("\n")


# ---------------------------------------------------------------- plan


class UserIds:
    """Usernames -> GitLab user ids, looked up lazily while a change runs and cached,
    so a plan with nothing to write makes no user lookups."""

    def __init__(self, known: Mapping[str, int] | None = None) -> None:
        # `known`: ids the caller already resolved (onboard), so none is looked up twice.
        self._ids: dict[str, int | None] = dict(known or {})

    def ids(self, gateway: Gateway, usernames: Iterable[str | None]) -> list[int]:
        out = []
        for name in usernames:
            if not name:
                continue
            if name not in self._ids:
                user = gateway.user(name)
                self._ids[name] = None if user is None else int(user["id"])
            if self._ids[name] is not None:
                out.append(self._ids[name])  # type: ignore[arg-type]
        return out

    def unknown(self, gateway: Gateway, people: Mapping[str, str]) -> list[str]:
        """The keys of ``people`` (``{"team.csm": username}``) whose username is no GitLab
        user (each looked up once per run, shared with the assignee lookups)."""
        missing = []
        for key, name in people.items():
            if name not in self._ids:
                user = gateway.user(name)
                self._ids[name] = None if user is None else int(user["id"])
            if self._ids[name] is None:
                missing.append(key)
        return missing

    def assignees(self, gateway: Gateway, usernames: Iterable[str | None]) -> dict[str, Any]:
        """``{"assignee_ids": [...]}`` for an issue create, or ``{}`` when nobody is known."""
        ids = self.ids(gateway, usernames)
        return {"assignee_ids": ids} if ids else {}


def plan_tracking_issue(
    plan: Plan,
    gateway: Gateway,
    settings: Settings,
    account: Account,
    today: date,
    *,
    existing: dict | None,
    project: dict | None,
    assessment: Assessment | None = None,
    extra: CardExtra | None = None,
    users: UserIds | None = None,
    card: bool = True,
) -> None:
    """Add the create-or-update change of the account's tracking issue to ``plan``.

    ``card=False`` (onboard, promote on an existing issue): only the labels of the
    bot's scopes; the card text is the daily triage's, which renders it with everything
    it knows (links, due dates), so the two never rewrite each other's card.

    ``existing`` is the tracking issue as listed (found by marker), or None;
    ``project`` the collaboration project (for its link), or None. An update is
    planned only when the labels of the bot's scopes or the card differ. The result
    (the issue) is stored in the plan results under ``tracking:<slug>``.
    """
    _, projects = settings.require_layout("tracking issue")
    taxonomy = settings.taxonomy
    if assessment is None:
        assessment = assess(account, settings.rules, today)
    if extra is None:
        # Called outside triage (onboard): keep the hidden data triage recorded.
        extra = CardExtra(data=card_data((existing or {}).get("description")))
    # One cache per run: ids belong to one GitLab, never shared across gateways.
    users = users or UserIds()
    slug = account.slug
    key = f"{KIND}:{slug}"
    marker_line = markers.marker(KIND, slug)
    token = markers.token(KIND, slug)
    wanted = bot_labels(assessment, taxonomy)
    target = f"{projects.accounts} tracking issue of {slug}"

    def describe(results: Results, old: str | None) -> str:
        final = extra.resolved(results) if extra.pending else extra
        final = replace(final, data=with_issue_iids(final, old))
        card = render_card(assessment, settings, project=project, extra=final)
        return compose_description(marker_line, card, old)

    if existing is None:

        def create(gw: Gateway, results: Results) -> dict:
            return gw.create_issue(
                projects.accounts,
                safe_title(account.name),
                describe(results, extra.below or None),
                token,
                labels=",".join(wanted),
                **users.assignees(gw, [account.team.csm]),
            )

        plan.add(
            "create-issue",
            target,
            f"{account.name!r} with labels {', '.join(wanted)}",
            create,
            key=key,
            account=slug,
        )
        return

    current_labels = list(existing.get("labels") or [])
    add, remove = label_delta(current_labels, wanted, BOT_SCOPES, taxonomy)
    old_description = existing.get("description") or ""
    # With pending issues the card will link what this run opens: it changes. Else the
    # card is rewritten only when its inputs' digest moved or its text was edited. A
    # digest that moved with the same visible text (a new gl-csm version, a template's
    # whitespace) rewrites the card once, recording the new digest: otherwise every
    # later run would have to render it to know it unchanged (README "Triage").
    changed_card = card and (
        bool(extra.pending)
        or not card_unchanged(
            old_description,
            marker_line,
            assessment,
            settings,
            project=project,
            # The very data describe() renders (the recorded iids merged in).
            extra=replace(extra, data=with_issue_iids(extra, old_description)),
        )
    )
    if not add and not remove and not changed_card:
        return  # the issue already matches: nothing to write
    fields, parts = label_fields(add, remove)
    # Rendered now, to say what changed (the same text the update writes, unless the
    # card links issues this run opens: then rendered again with their links).
    preview = describe({}, old_description) if changed_card else ""
    if changed_card:
        parts.append(card_change(old_description, preview, pending=bool(extra.pending)))
    iid = existing["iid"]

    def update(gw: Gateway, results: Results) -> dict:
        data = dict(fields)
        if changed_card:
            data["description"] = describe(results, old_description) if extra.pending else preview
        return gw.update_issue(projects.accounts, iid, **data)

    plan.add(
        "update-issue",
        f"{projects.accounts}#{iid} (tracking issue of {slug})",
        "; ".join(parts),
        update,
        key=key,
        account=slug,
    )


def plan_record_in_card(
    plan: Plan,
    project: str,
    tracking: Mapping[str, Any] | None,
    result_key: str,
    slug: str,
    what: str,
) -> None:
    """After a change that creates a bot issue of the account in the accounts project
    (result ``result_key``), record its iid in the tracking card's hidden data, so the
    next single-account command finds it with one read (services/lookup.py). Nothing
    when the account has no tracking issue yet (triage records it later)."""
    if tracking is None:
        return
    iid = tracking["iid"]
    old = tracking.get("description") or ""

    def record(gw: Gateway, results: Results) -> dict | None:
        made = results.get(result_key)
        if not isinstance(made, Mapping) or made.get("iid") is None:
            return None
        new = with_recorded_issue(old, "accounts", int(made["iid"]))
        if new is None:
            return None
        return gw.update_issue(project, iid, description=new)

    plan.add(
        "update-issue",
        f"{project}#{iid} (tracking issue of {slug})",
        f"record the {what} in the card's hidden data",
        record,
        account=slug,
    )


def tracking_link(
    tracking: Mapping[str, Any] | None, slug: str, results: Results, what: str = ""
) -> Trusted:
    """The link to the account's tracking issue: the listed one, or the one this run
    created before (the issues a run opens link it from the start)."""
    issue = tracking or results.get(f"{KIND}:{slug}")
    if isinstance(issue, Mapping):
        return issue_link(issue, what)
    return Trusted(f"{what}: none yet" if what else "none yet")


def plan_card_links(
    plan: Plan, settings: Settings, account: Account, assessment: Assessment, extra: CardExtra
) -> None:
    """Link, from the card of a tracking issue this run created first, the issues the
    run opened after it (they link the tracking issue, so it is created before them)."""
    _, projects = settings.require_layout("tracking issue")
    slug = account.slug
    key = f"{KIND}:{slug}"
    marker_line = markers.marker(KIND, slug)

    def update(gw: Gateway, results: Results) -> dict:
        made = results[key]
        old = made.get("description") or ""
        final = extra.resolved(results)
        final = replace(final, data=with_issue_iids(final, old))
        card = render_card(assessment, settings, project=None, extra=final)
        return gw.update_issue(
            projects.accounts, made["iid"], description=compose_description(marker_line, card, old)
        )

    plan.add(
        "update-issue",
        f"{projects.accounts} tracking issue of {slug} (opened in this run)",
        "link the issues opened in this run from the account card",
        update,
        account=slug,
    )
