"""Evidence from the collaboration projects in the daily triage (SPEC 4.1, 5 Promote).

Reads: ONE group-level listing of the post-sales group's issues updated since the
last run (doc/api/issues.md "List group issues", ``updated_after``), and ONE of its
closed milestones updated since then, its projects' included (doc/api/group_milestones.md
"List group milestones", ``include_descendants``: a milestone closed with no issue on
it is seen too; closing a milestone updates none of its issues). The last run's
date is the newest ``evidence.read`` the tracking cards record in their hidden data:
a card records the day a listing changed its account's evidence, so the date moves
only with a write the card makes anyway and a no-op rerun writes nothing. A listing
from an older date is a superset (more issues, the same evidence), never a gap. What
a listing found is kept in the card (:class:`~gl_csm.domain.evidence.Evidence`): a
meeting still ahead, a customer issue waiting, a checklist done are remembered, since
an issue nobody edits is not listed again.

The notes of a customer issue are read only on the day it passes
``rules.collaboration.reply_days`` business days with notes on it (is one of them the
team's reply?), once: it then leaves the watch.

Also here: a paid account whose collaboration project is still in ``groups.pre_sales``
(SPEC 5 Promote, handbook 001 "Until the account becomes a paying customer the project
remains in pre-sales"). The registry's ``project:`` says where the project is (onboard
and promote write it back), so noticing costs no read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from gl_csm.config import Settings
from gl_csm.domain import evidence as ev
from gl_csm.domain.account import Account
from gl_csm.domain.rules import TEAM_ROLES
from gl_csm.errors import ConfigError, GitLabError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan
from gl_csm.services.card_data import card_value
from gl_csm.services.triage.bot_issues import plan_note
from gl_csm.services.triage.context import TRACKING_NOTE
from gl_csm.templates import Trusted, mention, reference

#: The card's hidden data keys.
KEY = "evidence"
PROMOTE_KEY = "promote_asked"


def listing_since(tracking: Iterable[Mapping[str, Any]]) -> date | None:
    """The day the last run's listing changed a card's evidence (None: never read)."""
    days = [
        e.read
        for issue in tracking
        if (e := ev.Evidence.from_data(card_value(issue.get("description"), KEY))).read
    ]
    return max(days) if days else None


def listing_after(tracking: Iterable[Mapping[str, Any]]) -> str | None:
    """The ``updated_after`` of both listings (:func:`read_listing`,
    :func:`read_milestones`): the day of :func:`listing_since`, at midnight UTC."""
    since = listing_since(tracking)
    return None if since is None else f"{since.isoformat()}T00:00:00Z"


def _read_group(
    gateway: Gateway, settings: Settings, read: Callable[[str], list[dict]]
) -> list[dict]:
    """One listing of the post-sales group; a group the token cannot read is a
    configuration error (nothing was written)."""
    if settings.groups is None:
        return []
    group = settings.groups.post_sales
    try:
        return read(group)
    except GitLabError:
        # Only on the error path: is it the group itself that is not there?
        if gateway.group(group) is None:
            raise ConfigError(
                f"groups.post_sales: no group {group} at {gateway.url} that the token can "
                f"read; fix groups.post_sales in {settings.where} or create the group "
                f"(nothing was written)"
            ) from None
        raise


def read_listing(
    gateway: Gateway, settings: Settings, tracking: Iterable[Mapping[str, Any]]
) -> list[dict]:
    """The post-sales group's issues updated since the last run, in one listing."""
    return read_listing_after(gateway, settings, listing_after(tracking))


def read_milestones(
    gateway: Gateway, settings: Settings, tracking: Iterable[Mapping[str, Any]]
) -> list[dict]:
    """The post-sales group's closed milestones (its projects' included) updated since
    the last run, in one listing; the same ``since`` as :func:`read_listing`."""
    return read_milestones_after(gateway, settings, listing_after(tracking))


def read_listing_after(gateway: Gateway, settings: Settings, after: str | None) -> list[dict]:
    """:func:`read_listing` with its ``after`` already known (:func:`listing_after`: a
    run reads both listings from one pass over the cards)."""
    query: dict[str, Any] = {"state": "all"}
    if after is not None:
        query["updated_after"] = after
    return _read_group(gateway, settings, lambda group: gateway.group_issues(group, **query))


def read_milestones_after(gateway: Gateway, settings: Settings, after: str | None) -> list[dict]:
    """:func:`read_milestones` with its ``after`` already known."""
    return _read_group(
        gateway,
        settings,
        lambda group: gateway.group_milestones(group, state="closed", updated_after=after),
    )


def milestones_by_project(
    milestones: Iterable[Mapping[str, Any]], group: str
) -> dict[str, list[Mapping[str, Any]]]:
    """The listed project milestones by project path, lowercased. A milestone names its
    project by ``project_id`` only; its ``web_url`` is the project's milestone page
    (``https://host[/root]/group/sub/project/-/milestones/3``, Gitlab::UrlBuilder), so
    the path is read from it, from the listed group's path on (a relative URL root
    before it is left out). Group milestones (``group_id``) are no account's."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    prefix = f"/{group.strip('/').lower()}/"
    for milestone in milestones:
        if milestone.get("project_id") is None:
            continue
        page = urlsplit(str(milestone.get("web_url") or "")).path.lower()
        head, sep, _ = page.partition("/-/milestones/")
        at = head.find(prefix)
        if sep and at >= 0:
            out.setdefault(head[at + 1 :], []).append(milestone)
    return out


def by_project(issues: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The listed issues by project path (from GitLab's full reference)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for issue in issues:
        path = ev.issue_ref(issue).rsplit("#", 1)[0]
        out.setdefault(path, []).append(issue)
    return out


def project_paths(settings: Settings, account: Account) -> tuple[str, ...]:
    """Where the account's collaboration project may be listed: the registry's path,
    and its path in the post-sales group (promoted before the registry caught up)."""
    paths = [account.project] if account.project else []
    if settings.groups is not None:
        paths.append(f"{settings.groups.post_sales}/{account.slug}")
    return tuple(p for p in dict.fromkeys(paths) if p)


@dataclass(frozen=True)
class AccountEvidence:
    """One account's evidence this run: what the card recorded, what it is now, and the
    account the assessment reads (GitLab's values applied, with their sources)."""

    previous: ev.Evidence
    evidence: ev.Evidence
    applied: ev.Applied

    def data(self, today: date) -> dict[str, Any]:
        """The card's hidden data: ``read`` moves to today only when the evidence moved
        (the card is written then anyway), so an unchanged account's card stays as it is;
        nothing at all while nothing was seen."""
        content = {k: v for k, v in self.evidence.to_data().items() if k != "read"}
        if not content:
            return {}
        before = {k: v for k, v in self.previous.to_data().items() if k != "read"}
        moved = content != before or self.previous.read is None
        return replace(self.evidence, read=today if moved else self.previous.read).to_data()

    def card_lines(self) -> tuple[Trusted, ...]:
        """Where the bot used GitLab's evidence instead of the registry's value, each
        with the issue it came from written as a reference GitLab links
        (templates.reference: anything but an exact reference is made inert)."""
        words = {
            "engagement.last_call": "Last call",
            "onboarding_completed": "Onboarding completed",
        }
        return tuple(
            Trusted(f"{words.get(key, key)}: {day.isoformat()} from {reference(ref)}")
            for key, day, ref in self.applied.sources
        )

    def time_to_value(self) -> tuple[ev.TimeToValue, ...]:
        return self._time_to_value

    @cached_property
    def _time_to_value(self) -> tuple[ev.TimeToValue, ...]:
        # A pure function of two frozen fields, asked by the EBR brief, the card and the
        # report row of the account (services/triage/run.py): computed once.
        return ev.time_to_value(self.applied.account, self.evidence)


def gather(
    settings: Settings,
    account: Account,
    tracking: Mapping[str, Any] | None,
    listed: Mapping[str, list[Mapping[str, Any]]],
    today: date,
    milestones: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> AccountEvidence:
    """Fold this run's listings (issues by project path, closed milestones by lowercased
    project path) into the evidence the card recorded, and apply it."""
    previous = ev.Evidence.from_data(card_value((tracking or {}).get("description"), KEY))
    paths = project_paths(settings, account)
    issues = [i for path in paths for i in listed.get(path, [])]
    closed = [m for path in paths for m in (milestones or {}).get(path.lower(), [])]
    team = [getattr(account.team, role) for role in TEAM_ROLES]
    now = ev.fold(previous, issues, team=[t for t in team if t], today=today)
    now = ev.fold_milestones(now, closed)
    now = ev.with_first_value(now, account, today)
    return AccountEvidence(previous, now, ev.apply(account, now))


def plan_waiting_notes(
    gateway: Gateway,
    settings: Settings,
    plan: Plan,
    account: Account,
    tracking: Mapping[str, Any] | None,
    found: AccountEvidence,
    today: date,
) -> AccountEvidence:
    """A note on the tracking issue mentioning the CSM for each customer issue past
    ``rules.collaboration.reply_days`` business days without the team's reply, once per
    issue (SPEC 4.1; handbook 001 "responding in a timely manner to customer's open
    issues"). Returns the evidence with those issues settled."""
    if tracking is None or settings.projects is None:
        return found  # the tracking issue is made first; the next run tells
    days = settings.rules.collaboration.reply_days
    team = {getattr(account.team, role) for role in TEAM_ROLES} - {None}
    evidence = found.evidence
    for ref, opened, title, notes in ev.waiting(evidence, today, days):
        if notes and _team_replied(gateway, ref, team):
            evidence = ev.settle(evidence, ref, told=False)
            continue
        evidence = ev.settle(evidence, ref, told=True)
        plan_note(
            plan,
            settings.projects.accounts,
            tracking["iid"],
            None,
            TRACKING_NOTE,
            f"{account.slug}:waiting:{ref.replace('#', '/').lower()}",
            "note_customer_waiting.md.j2",
            {
                "account": account,
                "csm": mention(account.team.csm),
                "ref": ref,
                "title": title,
                "opened": opened.isoformat(),
                "days": days,
            },
            f"the CSM is told {ref} waits for the team's reply ({account.slug})",
            account.slug,
        )
    if evidence is found.evidence:
        return found  # nothing settled: the same evidence (and what it computed once)
    return AccountEvidence(found.previous, evidence, found.applied)


def _team_replied(gateway: Gateway, ref: str, team: set[str]) -> bool:
    path, iid = ref.rsplit("#", 1)
    notes = gateway.notes(path, int(iid))
    return any(
        not n.get("system") and (n.get("author") or {}).get("username") in team for n in notes
    )


# ---------------------------------------------------------------- paid, still in pre-sales


def in_pre_sales(settings: Settings, account: Account) -> bool:
    """A paid account whose project the registry places in ``groups.pre_sales``."""
    if account.customer_since is None or not account.project or settings.groups is None:
        return False
    return account.project.rsplit("/", 1)[0] == settings.groups.pre_sales


def plan_promote_ask(
    settings: Settings,
    plan: Plan,
    account: Account,
    tracking: Mapping[str, Any] | None,
    previous: Mapping[str, Any],
) -> dict[str, Any]:
    """`rules.promote.when_paid: ask`: tell the AE and CSM once (per account and
    project) that `action::promote` moves the project; the card records it. Returns the
    card's hidden data for it."""
    if not in_pre_sales(settings, account) or settings.rules.promote.when_paid != "ask":
        return {}
    assert account.project is not None
    if previous.get(PROMOTE_KEY) == account.project:
        return {PROMOTE_KEY: account.project}
    label = settings.taxonomy.name("action::promote")
    if tracking is None or settings.projects is None or label in (tracking.get("labels") or []):
        return {}  # no issue to post on yet, or the label is there: promote runs
    plan_note(
        plan,
        settings.projects.accounts,
        tracking["iid"],
        None,
        TRACKING_NOTE,
        f"{account.slug}:promote:{account.project.lower()}",
        "note_promote_ask.md.j2",
        {
            "account": account,
            "people": Trusted(
                " ".join(m for m in (mention(account.team.ae), mention(account.team.csm)) if m)
            ),
            "project": account.project,
            "post_sales": settings.groups.post_sales if settings.groups else "",
            "label": label,
        },
        f"ask the AE and CSM to promote {account.project} ({account.slug})",
        account.slug,
    )
    return {PROMOTE_KEY: account.project}


def promote_now(
    gateway: Gateway,
    settings: Settings,
    account: Account,
    tracking: Mapping[str, Any] | None,
    today: date,
) -> Plan | None:
    """`rules.promote.when_paid: auto`: the promote plan (services/collaboration/promote.py)
    for a paid account still in pre-sales; None when there is nothing to promote."""
    if settings.rules.promote.when_paid != "auto" or not in_pre_sales(settings, account):
        return None
    from gl_csm.services.collaboration.promote import plan_promote

    return plan_promote(
        gateway, settings, account.slug, today, None if tracking is None else tracking["iid"]
    )
