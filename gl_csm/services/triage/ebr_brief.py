"""The executive brief an EBR reminder carries (handbook 001 "E-Group Customer Calls":
"Be as thorough as possible about your customer's details (e.g. ARR, # of users, tier,
renewal date, stages in use)"), with the health and its history, the time to value
(handbook 004) and the open risks.

The EBR issue is internal (the accounts project), so internal facts belong there. The
reminder engine refreshes the bot's part of an open reminder every run, so the brief
follows the account until the EBR is held (the issue closed). Every fact comes from
what the run knows before it writes (the registry, the assessment, the history read at
its start, the evidence the card recorded), so a same-day rerun renders the same brief.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gl_csm.domain.account import Account
from gl_csm.domain.assessment import Assessment
from gl_csm.domain.history import HistoryRow
from gl_csm.domain.history_periods import LAST_ROWS_CARRIED
from gl_csm.domain.measure_text import measure_name, override_text, value_text
from gl_csm.services.tracking import money
from gl_csm.services.triage.context import TriageContext

#: The reminder kind whose issue carries the brief (domain/rules.py reminder table).
EBR = "ebr"
#: How many changes of the health the brief lists (newest first): as many as a year's
#: history file carries of each account's rows before it (domain/history_periods.py),
#: so the list reads the same whichever year's files the run read.
HISTORY_SHOWN = LAST_ROWS_CARRIED


def _score(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def health_history(rows: Sequence[HistoryRow], a: Assessment, today: Any) -> list[str]:
    """The account's health changes, newest first: the history rows before today, then
    today's state when it differs (what the run records at its end), so the list reads
    the same before and after today's history commit."""
    changes = [(r.day, r.health, r.score) for r in rows if r.day < today]
    h = a.health
    score = None if h is None or h.score is None else round(h.score)
    now = (today, None if h is None else h.color, score)
    if not changes or (changes[-1][1], changes[-1][2]) != (now[1], now[2]):
        changes.append(now)
    return [
        f"{day.isoformat()}: {health or 'no health'} (score {_score(score)})"
        for day, health, score in reversed(changes[-HISTORY_SHOWN:])
    ]


def open_risks(account: Account, a: Assessment) -> list[str]:
    """What an executive should know before the call: the overrides that set the color,
    the risk recorded in the registry, and whether the account needs triage."""
    risks: list[str] = []
    h = a.health
    if h is not None:
        risks += [override_text(o) for o in h.overrides]
        risks += [
            f"{measure_name(m.name)} is {m.color} ({value_text(m)})"
            for m in h.measures
            if m.color in ("red", "yellow")
        ]
    risk = account.risk
    if risk.types:
        risks.append("risk types: " + ", ".join(risk.types))
    if risk.reasons:
        risks.append("risk reasons: " + ", ".join(risk.reasons))
    if risk.impacts:
        risks.append("risk impacts: " + ", ".join(risk.impacts))
    if risk.contraction and not any("contraction" in r for r in risks):
        risks.append("potential contraction or churn")
    if a.needs_triage:
        risks.append("the account needs triage (see the tracking issue)")
    return risks


def executive_brief(ctx: TriageContext, account: Account, a: Assessment) -> dict[str, Any]:
    """The brief's facts, for issue_templates/reminder_ebr.md.j2."""
    seats = account.seats
    if seats.licensed is None:
        users = "-"
    else:
        active = "-" if seats.active is None else seats.active
        users = f"{active} active of {seats.licensed} licensed"
    h = a.health
    found = ctx.evidence.get(account.slug)
    ttv = [] if found is None else found.time_to_value()
    return {
        "arr": money(account.arr),
        "users": users,
        "tier": f"{account.plan or '-'} ({account.deployment or '-'})",
        "renewal": account.renewal_date.isoformat() if account.renewal_date else "-",
        "stages": ", ".join(account.stages_adopted or ()) or "not recorded",
        "health": "none (pre-sales)" if h is None else f"{h.color} (score {_score(h.score)})",
        "history": health_history(ctx.history.get(account.slug, []), a, ctx.today),
        "time_to_value": [(t.kpi, t.text()) for t in ttv],
        "risks": open_risks(account, a),
    }
