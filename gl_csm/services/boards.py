"""Issue boards that `gl-csm setup` keeps (SPEC 5 "Portfolio view").

* ``projects.accounts``: "Portfolio health", one list per ``health::`` label, so the
  tracking issues (one per account) sort themselves into red, yellow, green, unknown;
* ``projects.triage``: "Triage status", one list per ``triage::`` state of a triage issue.

Only label lists are used: they exist on every GitLab tier, and so do several boards per
project (app/models/project.rb). Assignee and milestone lists and several *group* boards
need Premium (doc/user/project/issue_board.md), so gl-csm does not depend on them.

A board is found by its name (boards carry no description for a marker); a missing
board or list is created, a list people added is kept, nothing is deleted, so a second
run writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gl_csm.config import Settings
from gl_csm.gitlab.gateway import Gateway
from gl_csm.plan import Plan, Results


@dataclass(frozen=True)
class BoardDef:
    project: str
    name: str
    labels: tuple[str, ...]  # canonical label names, in list order


HEALTH_LISTS = ("health::red", "health::yellow", "health::green", "health::unknown")
TRIAGE_LISTS = ("triage::needed", "triage::open", "triage::exit-proposed", "triage::resolved")


def wanted_boards(settings: Settings) -> tuple[BoardDef, ...]:
    _, projects = settings.require_layout("setup")
    names = settings.taxonomy.name
    return (
        BoardDef(projects.accounts, "Portfolio health", tuple(names(n) for n in HEALTH_LISTS)),
        BoardDef(projects.triage, "Triage status", tuple(names(n) for n in TRIAGE_LISTS)),
    )


def plan_boards(plan: Plan, gateway: Gateway, settings: Settings) -> None:
    """Changes for each missing board and each missing list of a wanted board."""
    for board in wanted_boards(settings):
        existing = [b for b in gateway.project_boards(board.project) if b["name"] == board.name]
        if existing:
            have = {(x.get("label") or {}).get("name") for x in existing[0].get("lists") or []}
            board_id: int | None = int(existing[0]["id"])
        else:
            have, board_id = set(), None
            plan.add(
                "create-board",
                f"project {board.project}",
                f"board {board.name!r} with lists {', '.join(board.labels)}",
                lambda gw, _r, b=board: gw.create_project_board(b.project, b.name),
                key=_key(board),
            )
        for label in board.labels:
            if label in have:
                continue
            plan.add(
                "create-board-list",
                f"project {board.project}",
                f"list {label} on board {board.name!r}",
                lambda gw, r, b=board, lb=label, bid=board_id: _add_list(gw, r, b, lb, bid),
            )


def _key(board: BoardDef) -> str:
    return f"board:{board.project}:{board.name}"


def _add_list(
    gateway: Gateway, results: Results, board: BoardDef, label: str, board_id: int | None
) -> dict:
    if board_id is None:
        board_id = int(results[_key(board)]["id"])  # created earlier in this plan
    cache = f"labels:{board.project}"  # one label listing per project per run
    if cache not in results:
        results[cache] = {lb["name"]: lb["id"] for lb in gateway.project_labels(board.project)}
    by_name = results[cache]
    if label not in by_name:
        raise ValueError(
            f"board {board.name!r} of {board.project}: label {label!r} does not exist "
            f"(gl-csm setup creates it; was it deleted?)"
        )
    return gateway.create_board_list(board.project, board_id, int(by_name[label]))
