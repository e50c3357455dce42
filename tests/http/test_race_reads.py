"""The check after a converging create (IssueCalls._raced_by) reads what was created
since the previous check, not every issue of the race window again: a first run that
creates thousands of issues read its own creates before each one (6,503 reads for a
first run of 1,000 accounts, pages growing with every create). A twin another run
made between two of this run's checks is still found."""

from __future__ import annotations

import datetime as dt

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox import Sandbox, serve

PROJECT = "customer-success/accounts"


def _sandbox() -> tuple[Sandbox, list[dt.datetime]]:
    now = [dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(milliseconds=50)  # a busy first run: many creates a minute
        return now[0]

    sandbox = Sandbox(None, clock=clock)
    sandbox.seed(projects=[(PROJECT, "private")], users=["alice"])
    return sandbox, now


def _create(gw: Gateway, key: str) -> dict:
    mark = markers.marker("tracking", key)
    return gw.create_issue(
        PROJECT, f"issue {key}", f"{mark}\nbody", markers.token("tracking", key), converge=True
    )


def test_each_check_reads_one_page_however_many_the_run_created() -> None:
    sandbox, _ = _sandbox()
    with serve(sandbox).start() as server:
        gw = Gateway.connect(server.url, "token")
        for i in range(250):  # 2.5 pages of this run's own creates in the window
            _create(gw, f"acct-{i:03d}")
        before = gw.stats.reads
        for i in range(250, 260):
            _create(gw, f"acct-{i:03d}")
        # One race-check page per create: what was created since the last check (less
        # RACE_MARGIN), not the 250 issues of the window again (three pages each).
        assert gw.stats.reads - before == 10


def test_a_twin_made_between_two_checks_is_still_found() -> None:
    sandbox, _ = _sandbox()
    with serve(sandbox).start() as server:
        ours, theirs = Gateway.connect(server.url, "a"), Gateway.connect(server.url, "b")
        _create(ours, "acct-000")  # this run's index now knows the window
        twin = _create(theirs, "acct-001")  # the other run's create, this run unaware
        gw_create = ours.create
        ours.create = lambda path, what, data, **kw: gw_create(  # type: ignore[method-assign]
            path, what, data, **{**kw, "find": lambda: None}
        )
        made = ours.create_issue(
            PROJECT,
            "issue acct-001",
            f"{markers.marker('tracking', 'acct-001')}\nbody",
            markers.token("tracking", "acct-001"),
            converge=True,
        )
        assert made["id"] == twin["id"]  # this run stepped back to the first one
        mine = [i for i in theirs.issues(PROJECT, state="all") if "acct-001" in i["title"]]
        assert sorted(i["state"] for i in mine) == ["closed", "opened"]
