"""The closed issues of the accounts project, known without paging the past (SPEC 7.1).

The daily run lists the OPEN issues of the accounts project only: its closed issues
(about three reminders per account and year, every will-churn checklist done) would
make the no-op rerun's reads grow with the portfolio's age. What must never be made
twice or reopened is known from what the bot recorded instead, each step exact (a
hidden marker decides, never GitLab's search), the last one allowed to say "absent":

1. the tracking card's hidden data ``reminders``: the keys of the reminder issues that
   exist and are due today (a closed renewal review still in its window), so a rerun
   reads nothing for them; a CSM's quarterly review is recorded on the card of the
   first account of the CSM's book (:func:`recorder_of`);
2. for a key the card does not hold (a stage newly due, a key pruned once it was no
   longer due and due again): the account's issues the card records by iid (one
   ``iids[]`` listing, closed ones included), then the project's closed issues created
   after ``reminders_seen`` (a GitLab timestamp: every reminder of the account created
   before it is in the card's iids; ``created_after``, doc/api/issues.md). Only a
   reminder made by a run whose card write failed and closed before the next run can
   be missing from the card, and it was created after that stamp;
3. without that record (a card older than it, a new account): the project's closed
   issues, every page, once per run.

A tracking issue missing from the open listing is looked for among the closed issues of
its ``segment::`` label (a narrowing), then step 3 before one is created.

The stamp is GitLab's own clock (the newest ``created_at`` of the open listing, read at
the start of the run), never the bot's ``--today``: the two differ on a rehearsal with a
date in the future, and a filter mixing them would hide issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from gl_csm import markers
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.lookup import ISSUES_KEY, recorded_iids

#: Card hidden-data key: the full marker keys of the reminder issues that exist and are
#: due today (closed ones included), so a rerun knows them without reading them.
RECORD_KEY = "reminders"
#: Card hidden-data key: a GitLab timestamp; every reminder of the account created
#: before it is among the iids the card records (services/lookup.py ``issues``).
SEEN_KEY = "reminders_seen"
#: Card hidden-data key: the account has a will-churn checklist (open or closed), so a
#: run looks it up even once will-churn is no longer asked.
CHECKLIST_KEY = "checklist"


def _moment(stamp: str) -> datetime:
    """A GitLab timestamp (``2026-11-23T09:00:00.000Z``); the earliest when unreadable,
    so an issue with an odd stamp is kept rather than left out of a proof."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def card_record(tracking: Mapping[str, Any] | None) -> tuple[set[str], str | None]:
    """The reminder keys a tracking card records, and its ``reminders_seen`` stamp."""
    from gl_csm.services.card_data import card_value

    # Two values of the data, each copied alone (card_data.card_value).
    description = (tracking or {}).get("description")
    keys = card_value(description, RECORD_KEY)
    seen = card_value(description, SEEN_KEY)
    found = {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else set()
    return found, seen if isinstance(seen, str) and seen else None


def recorder_of(books: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """CSM -> the account (first slug of the book) whose card records the CSM's review."""
    return {csm: min(slugs) for csm, slugs in books.items() if slugs}


class PastIssues:
    """What the daily run knows of the accounts project beyond its open issues: each
    read below happens at most once per run, and only when a key is missing."""

    def __init__(
        self,
        gateway: Gateway,
        project: str,
        open_issues: list[dict],
        tracking: Mapping[str, dict],
    ) -> None:
        self.gateway = gateway
        self.project = project
        stamps = [str(i["created_at"]) for i in open_issues if i.get("created_at")]
        #: GitLab's clock at the listing: the newest issue it holds.
        self.stamp: str | None = max(stamps) if stamps else None
        self._tracking = tracking
        self._closed: list[dict] | None = None
        self._since: dict[str, list[dict]] = {}
        self._by_iid: dict[str, list[dict]] = {}
        self._segments: dict[str, list[dict]] = {}
        #: Accounts whose reminders were proven this run (their card takes the stamp).
        self.proven: set[str] = set()
        #: slug -> iids of the account's issues found past the open listing.
        self.found_iids: dict[str, set[int]] = {}
        self.recorded: set[str] = set()
        #: CSM -> the account whose card records the CSM's closed review (recorder_of).
        self.recorders: dict[str, str] = {}
        for issue in tracking.values():
            self.recorded |= card_record(issue)[0]

    # -- the reads, each once ----------------------------------------------------------

    def closed(self) -> list[dict]:
        """Every closed issue of the project (step 3: no record to rely on)."""
        if self._closed is None:
            self._closed = self.gateway.issues(self.project, state="closed")
        return self._closed

    def _created_since(self, stamp: str) -> list[dict]:
        """The closed issues created at or after ``stamp``: one listing per run, from the
        oldest stamp asked so far (a later stamp is answered from it)."""
        if self._closed is not None:
            return self._closed
        held = next(iter(self._since), None)
        if held is None or _moment(stamp) < _moment(held):
            self._since = {
                stamp: self.gateway.issues(self.project, state="closed", created_after=stamp)
            }
            held = stamp
        at = _moment(stamp)
        return [i for i in self._since[held] if _moment(str(i.get("created_at"))) >= at]

    def _recorded_issues(self, slug: str) -> list[dict]:
        if slug not in self._by_iid:
            iids = recorded_iids(self._tracking.get(slug)).get("accounts") or []
            self._by_iid[slug] = (
                self.gateway.issues_by_iid(self.project, iids, state="all") if iids else []
            )
        return self._by_iid[slug]

    # -- the proofs ----------------------------------------------------------------------

    def _past_of(self, slug: str, kind: str) -> dict[str, dict]:
        """The account's issues of ``kind`` past the open listing, by marker key: through
        its card's record when it has one, else from every closed issue."""
        _, seen = card_record(self._tracking.get(slug))
        if seen is None:
            items = self.closed()
        else:
            items = self._recorded_issues(slug) + self._created_since(seen)
        self.proven.add(slug)
        found = markers.index_by_marker(items, kind)
        mine = {k: v for k, v in found.items() if k == slug or k.startswith(f"{slug}:")}
        if mine:
            self.found_iids.setdefault(slug, set()).update(int(i["iid"]) for i in mine.values())
        return mine

    def reminder(self, key: str) -> dict | None:
        """A reminder issue not in the open listing: recorded (then known closed), else
        proven present or absent."""
        from gl_csm.services.triage.context import REMINDER

        owner = key.split(":", 1)[0]
        if key in self.recorded:
            return {"state": "closed", "recorded": True, "key": key}
        if owner.startswith("csm."):
            # A CSM's review has no card of its own: every closed issue, then.
            return markers.index_by_marker(self.closed(), REMINDER).get(key)
        return self._past_of(owner, REMINDER).get(key)

    def checklist(self, slug: str, kind: str) -> dict | None:
        """The account's closed checklist of ``kind`` (its iid is in the card's record)."""
        return self._past_of(slug, kind).get(slug)

    def tracking(self, slug: str, segment_label: str | None) -> dict | None:
        """A tracking issue missing from the open listing: among the closed issues of its
        segment label (a narrowing), then among every closed issue (the proof)."""
        if segment_label:
            if segment_label not in self._segments:
                self._segments[segment_label] = self.gateway.issues(
                    self.project, state="closed", labels=segment_label
                )
            found = markers.index_by_marker(self._segments[segment_label], "tracking").get(slug)
            if found is not None:
                return found
        return markers.index_by_marker(self.closed(), "tracking").get(slug)

    def card_data(self, slug: str) -> dict[str, Any]:
        """What the account's card records of this run's proofs: the iids found past the
        open listing, and the stamp once its reminders were proven."""
        out: dict[str, Any] = {}
        if self.found_iids.get(slug):
            out[ISSUES_KEY] = {"accounts": sorted(self.found_iids[slug])}
        if slug in self.proven and self.stamp is not None:
            out[SEEN_KEY] = self.stamp
        return out


class ProvenIndex(Mapping[str, dict]):
    """KEY -> issue of one marker kind: the open listing's, and for a key it lacks the
    answer of ``resolve`` (None: proven absent), asked once per key. Iterating gives the
    open ones (what a planner refreshes); ``known`` answers without reading."""

    def __init__(self, open_index: dict[str, dict], resolve: Any) -> None:
        self._open = open_index
        self._resolve = resolve
        self._answers: dict[str, dict | None] = {}

    def known(self, key: str) -> dict | None:
        if key in self._open:
            return self._open[key]
        return self._answers.get(key)

    def __getitem__(self, key: str) -> dict:
        if key in self._open:
            return self._open[key]
        if key not in self._answers:
            self._answers[key] = self._resolve(key)
        found = self._answers[key]
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._open)

    def __len__(self) -> int:
        return len(self._open)
