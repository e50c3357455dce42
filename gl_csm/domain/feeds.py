"""Data feeds `gl-csm accounts import --feed` takes besides the CRM export.

Usage, support and NPS figures go stale fastest (health has no data for them after
60, 30 and 365 days: `health.staleness_days`), so they come from exports rather than
from people typing YAML. Each feed is one row of :data:`FEEDS`: the registry keys it may
set, the key that dates its figures, the column names it reads when the config maps
none, and the staleness rule its figures obey. Pure data: the import itself is
``services/moves/accounts_import.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gl_csm.domain.rules import Rules

#: How a feed row finds its account; a feed never creates an account (the CRM does).
LOOKUP_KEYS: tuple[str, ...] = ("name", "slug")


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    #: Registry keys the feed owns (besides the lookup keys).
    keys: tuple[str, ...]
    #: The key that dates the feed's figures; every imported row must have a date.
    as_of: str
    #: CSV column -> registry key when `feeds.<name>.columns` is not configured.
    default_columns: Mapping[str, str]
    #: Days after which the feed's figures are no data (a `health.staleness_days` rule).
    stale_after: Callable[[Rules], int]
    #: What the figures are, for people ("usage figures").
    what: str


FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            "usage",
            (
                "usage.as_of",
                "usage.monthly_active",
                "usage.scm",
                "usage.ci",
                "usage.devsecops",
                "usage.cd",
                "seats.active",
            ),
            "usage.as_of",
            {
                "Account Slug": "slug",
                "Account Name": "name",
                "As Of": "usage.as_of",
                "Monthly Active": "usage.monthly_active",
                "SCM": "usage.scm",
                "CI": "usage.ci",
                "DevSecOps": "usage.devsecops",
                "CD": "usage.cd",
                "Active Seats": "seats.active",
            },
            lambda rules: rules.health.staleness_days.usage,
            "usage figures",
        ),
        Feed(
            "support",
            (
                "support.as_of",
                "support.tickets_last_30_days",
                "support.advised_no_ticket",
                "support.emergency_open",
                "support.emergency_closed_last_7_days",
            ),
            "support.as_of",
            {
                "Account Slug": "slug",
                "Account Name": "name",
                "As Of": "support.as_of",
                "Tickets Last 30 Days": "support.tickets_last_30_days",
                "Emergency Open": "support.emergency_open",
                "Emergency Closed Last 7 Days": "support.emergency_closed_last_7_days",
            },
            lambda rules: rules.health.staleness_days.support,
            "support figures",
        ),
        Feed(
            "nps",
            ("nps", "nps_as_of"),
            "nps_as_of",
            {
                "Account Slug": "slug",
                "Account Name": "name",
                "Survey Date": "nps_as_of",
                "NPS": "nps",
            },
            lambda rules: rules.health.staleness_days.nps,
            "NPS survey answers",
        ),
    )
}
