"""Who is told about an account at risk (SPEC 5.1, handbook 002 "At Risk Communication
Guidelines"). Pure: the people come from config, the colors from the assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gl_csm.domain.account import Account
from gl_csm.domain.health import worse_color


class _Region(Protocol):
    csm_manager: str | None
    csm_director: str | None
    area_sales_manager: str | None
    regional_director: str | None


@dataclass(frozen=True, slots=True)
class Notify:
    """The deciding color and the usernames to mention, each with its role."""

    color: str | None
    people: tuple[tuple[str, str], ...]  # (role, username), in the handbook's order

    @property
    def usernames(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for _, name in self.people:
            seen.setdefault(name, None)
        return tuple(seen)


def deciding_color(health: str | None, sentiment: str | None) -> str | None:
    """SPEC 5.1: the worse of the account's health and the CSM sentiment
    (a CSM's yellow counts even when the scorecard is green)."""
    return worse_color(health, sentiment)


def who_to_tell(account: Account, health: str | None, sentiment: str | None, people: Any) -> Notify:
    """The people of SPEC 5.1 for this account; nobody for green or no color.

    ``people`` is the config's People (vp_customer_success, public_sector_cs_director,
    regions by name). A role nobody fills is skipped.
    """
    color = deciding_color(health, sentiment)
    if color not in ("yellow", "red"):
        return Notify(color, ())
    region: _Region | None = people.regions.get(account.region) if account.region else None
    out: list[tuple[str, str | None]] = [
        # handbook 002, Yellow: "Account Team (i.e. Account Executive and Solution Architect)"
        ("account executive", account.team.ae),
        ("solutions architect", account.team.sa),
        ("regional CSM manager", region.csm_manager if region else None),
    ]
    # handbook 002: "CSM Director (all non-Public Sector customers) or Director of
    # Customer Success Public Sector (for Public Sector customers)".
    if account.public_sector:
        out.append(("Director of Customer Success Public Sector", people.public_sector_cs_director))
    else:
        out.append(("CSM director", region.csm_director if region else None))
    if color == "red":
        # handbook 002, Red: the list above, plus ASM, Regional Director and the VP of CS.
        out += [
            ("area sales manager", region.area_sales_manager if region else None),
            ("regional director", region.regional_director if region else None),
            ("VP of Customer Success", people.vp_customer_success),
        ]
    return Notify(color, tuple((role, name) for role, name in out if name))


def region_problem(account: Account, color: str | None, people: Any) -> str | None:
    """Why the regional people of SPEC 5.1 are left out for this color (the account has
    no region, or one the config's ``people.regions`` lacks), naming who; None when
    nobody regional is missing. Said in the run output and on the triage issue
    (they were left out silently)."""
    if color not in ("yellow", "red"):
        return None
    if account.region and account.region in people.regions:
        return None
    roles = ["regional CSM manager"]
    if not account.public_sector:
        roles.append("CSM director")
    if color == "red":
        roles += ["area sales manager", "regional director"]
    why = (
        f"region {account.region!r} is not in the config's people.regions"
        + (f" (known: {', '.join(sorted(people.regions))})" if people.regions else "")
        if account.region
        else "the account has no `region` in the registry"
    )
    return f"{why}: the {', '.join(roles)} cannot be told"
