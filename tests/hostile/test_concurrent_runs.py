"""Three `react` runs for one account at once (a webhook reaction, a CI job, a manual
rerun), each on its own connection to one sandbox served over HTTP: whatever order
their requests take, they converge on one open triage issue; the later ones are closed
as duplicates of the first, with a note, within the run that made them.

The race is forced: each run has read "no open triage issue" before any creates one
(the window that re-reading before a create cannot close)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.sandbox.server import serve
from gl_csm.services.react import react
from tests.services.react_support import issue_hook
from tests.services.triage_world import ACCOUNTS, TRIAGE, World

RUNS = 3


def _racing(url: str, barrier: threading.Barrier) -> Gateway:
    """A gateway whose issue creates wait until every run is about to create one."""
    gw = Gateway.connect(url, "token")
    gw._create_wait_max = 0.0
    create = gw.create

    def create_when_all_ready(path: str, *args: Any, **kw: Any) -> dict:
        if path.endswith("/issues") and TRIAGE.replace("/", "%2F") in path:
            barrier.wait(30)
        return create(path, *args, **kw)

    gw.create = create_when_all_ready  # type: ignore[method-assign]
    return gw


def test_concurrent_reactions_converge_on_one_open_triage_issue(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add("acme", "Acme")
    world.run()
    tracking = markers.index_by_marker(world.issues(ACCOUNTS), "tracking")["acme"]
    world.person().update_issue(ACCOUNTS, tracking["iid"], add_labels="triage::needed")
    fresh = world.person().issue(ACCOUNTS, tracking["iid"])
    assert fresh is not None
    payload = issue_hook(ACCOUNTS, fresh, added=["triage::needed"])

    barrier = threading.Barrier(RUNS)
    results: list[Any] = []
    errors: list[BaseException] = []
    with serve(world.sandbox).start() as server:

        def one_run() -> None:
            try:
                gw = _racing(server.url, barrier)
                results.append(react(gw, world.settings, world.today, payload)[1])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=one_run) for _ in range(RUNS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors, errors
    assert all(o.exit_code == 0 for o in results), [
        f.to_text() for o in results for f in o.failures
    ]

    made = [i for i in world.issues(TRIAGE) if "gl-csm:triage:acme" in (i["description"] or "")]
    opened = [i for i in made if i["state"] == "opened"]
    closed = [i for i in made if i["state"] == "closed"]
    assert len(made) == RUNS  # the race happened: each run created one
    assert len(opened) == 1 and opened[0]["id"] == min(i["id"] for i in made)
    first = opened[0]["iid"]
    for dup in closed:
        notes = world.notes(TRIAGE, dup["iid"])
        assert any(f"Closed as a duplicate of #{first}" in n["body"] for n in notes)
    # The scheduled run goes on with the one open triage issue (it records the day's
    # history, which a reaction leaves to it), then a rerun writes nothing.
    outcome, _, _ = world.run()
    assert not [c for c in outcome.changes if c.action == "create-issue"]
    assert [i["iid"] for i in world.issues(TRIAGE, state="opened")] == [first]
    _, _, again = world.run()
    assert again.writes == 0
