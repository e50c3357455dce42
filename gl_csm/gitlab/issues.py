"""Milestones, issues and notes; bot issues and notes are found by their hidden marker,
never by GitLab's search (ARCHITECTURE rule 3), and the assignees GitLab kept are
checked on every write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gl_csm import markers
from gl_csm.errors import GitLabError, PartialWrite
from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.writes import Writes
from gl_csm.templates import inert_commands

#: How far back a create looks for a concurrent run's twin (see IssueCalls._raced_by).
RACE_WINDOW = dt.timedelta(minutes=15)
#: A later check of the same run lists again from the newest issue the previous check
#: saw, less this margin: an issue stamped ``created_at`` before a listing may commit
#: just after it (app/models/concerns/issuable.rb stamps before the insert commits).
RACE_MARGIN = dt.timedelta(seconds=10)


def _stamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class _RaceIndex:
    """The bot's issues one run's race checks have listed in a project: each marker
    token's first carrier (lowest id) and the newest ``created_at`` seen, so the next
    check lists only what was created since (less RACE_MARGIN) instead of every issue
    of the last RACE_WINDOW again: a first run that creates thousands of issues would
    otherwise re-read its own creates before each one (quadratic reads)."""

    def __init__(self) -> None:
        self.newest: dt.datetime | None = None
        self.first: dict[str, tuple[int, dt.datetime, dict]] = {}

    def add(self, issue: dict) -> None:
        created = _stamp(issue.get("created_at"))
        if created is None:
            return
        if self.newest is None or created > self.newest:
            self.newest = created
        if issue.get(markers.BY_PERSON):
            return
        for kind, key in markers.markers_in(issue.get("description")):
            known = self.first.get(f"gl-csm:{kind}:{key}")
            if known is None or int(issue["id"]) < known[0]:
                self.first[f"gl-csm:{kind}:{key}"] = (int(issue["id"]), created, issue)


def _carries(text: str | None, marker_token: str) -> bool:
    """Whether ``text`` carries exactly this marker token (not one it is a prefix of)."""
    return any(f"gl-csm:{k}:{v}" == marker_token for k, v in markers.markers_in(text))


def _own(item: Mapping[str, Any], field: str, marker_token: str) -> bool:
    """Whether the bot wrote ``item`` and its ``field`` carries this marker token."""
    return not item.get(markers.BY_PERSON) and _carries(item.get(field), marker_token)


class IssueCalls(Writes):
    #: What this run's race checks listed (:class:`_RaceIndex`), by project and state;
    #: set empty by the gateway, one per run.
    races: dict[tuple[str, str], _RaceIndex]

    def _authored(self, items: list[dict]) -> list[dict]:
        """Mark the issues and notes a person wrote (``author.id`` not the bot's user,
        known once the token's user was read: :meth:`check_connection`), so a marker
        copied into them is never taken for the bot's (markers.BY_PERSON)."""
        bot = self.bot_id
        if bot is not None:
            for item in items:
                author = item.get("author")
                if isinstance(author, Mapping) and author.get("id") not in (None, bot):
                    item[markers.BY_PERSON] = True
        return items

    # -- milestones -----------------------------------------------------------------

    def milestones(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/milestones", f"list milestones of {project}", **query
        )

    def group_milestones(
        self, group: str | int, *, state: str = "closed", updated_after: str | None = None
    ) -> list[dict]:
        """The milestones of a group, its subgroups and their projects, in one listing
        (doc/api/group_milestones.md "List group milestones", ``include_descendants``,
        GitLab 16.7; GitLab Free): project milestones carry ``project_id`` and a
        ``web_url`` in the project (``https://host/group/project/-/milestones/3``)."""
        query: dict[str, Any] = {"state": state, "include_descendants": "true"}
        if updated_after is not None:
            query["updated_after"] = updated_after
        return self.list(
            f"/groups/{enc(group)}/milestones", f"list milestones of group {group}", **query
        )

    def update_milestone(self, project: str | int, milestone_id: int, **fields: Any) -> dict:
        """doc/api/milestones.md "Edit milestone" (``state_event``: ``close`` or
        ``activate``; title, description, dates)."""
        return self.put(
            f"/projects/{enc(project)}/milestones/{milestone_id}",
            f"update milestone {milestone_id} of {project}",
            fields,
        )

    def create_milestone(self, project: str | int, title: str, **fields: Any) -> dict:
        def find() -> dict | None:
            same = [m for m in self.milestones(project, title=title) if m.get("title") == title]
            return same[0] if same else None

        try:
            return self.create(
                f"/projects/{enc(project)}/milestones",
                f"create milestone {title!r} in {project}",
                {"title": title, **fields},
                find=find,
            )
        except GitLabError:
            # Another run created it a moment ago (GitLab refuses a second milestone of
            # the title, app/models/milestone.rb uniqueness): that one is the one.
            found = find()
            if found is None:
                raise
            return found

    # -- issues ---------------------------------------------------------------------

    def issues(self, project: str | int, **query: Any) -> list[dict]:
        return self._authored(
            self.list(f"/projects/{enc(project)}/issues", f"list issues of {project}", **query)
        )

    def group_issues(self, group: str | int, **query: Any) -> list[dict]:
        """The issues of every project of a group and its subgroups, in one listing
        (doc/api/issues.md "List group issues"; ``updated_after`` narrows it)."""
        return self.list(f"/groups/{enc(group)}/issues", f"list issues of group {group}", **query)

    def issue(self, project: str | int, iid: int) -> dict | None:
        found = self.get(f"/projects/{enc(project)}/issues/{iid}", f"read issue {project}#{iid}")
        return None if found is None else self._authored([found])[0]

    def issues_by_iid(
        self, project: str | int, iids: Iterable[int], *, state: str = "all"
    ) -> list[dict]:
        """The issues with these iids, in one listing (doc/api/issues.md ``iids[]``)."""
        wanted = sorted({int(i) for i in iids})
        if not wanted:
            return []
        return self._authored(
            self.list(
                f"/projects/{enc(project)}/issues",
                f"read issues {project}#{','.join(map(str, wanted))}",
                state=state,
                **{"iids[]": wanted},
            )
        )

    def find_issue_by_marker(
        self,
        project: str | int,
        marker_token: str,
        *,
        state: str = "all",
        narrow: Iterable[Mapping[str, Any]] = (),
        newest_first: bool = False,
    ) -> dict | None:
        """The issue carrying this exact marker, never trusting GitLab's search.

        GitLab's issue search is full-text (``app/models/concerns/pg_full_text_searchable.rb``):
        an HTML comment is not indexed, so a marker is never found by ``search``
        (ARCHITECTURE rule 3). Each ``narrow`` query (labels, assignee, a title search...)
        is a cheap first try; only the marker decides. When none holds it, every page of
        the project's issues is read until the marker shows up, so an empty or partial
        narrowed answer never leads to a create. Oldest first, so when a person copied a
        bot issue the bot keeps the one it made (as :func:`markers.index_by_marker`);
        ``newest_first`` after a lost create answer, where the issue is the latest one.
        """
        for query in narrow:
            found = self.issues(project, state=state, **query)
            mine = [i for i in found if _own(i, "description", marker_token)]
            if mine:
                return min(mine, key=lambda i: i["id"])
        order = "desc" if newest_first else "asc"
        for issue in self.scan(
            f"/projects/{enc(project)}/issues",
            f"list issues of {project}",
            state=state,
            order_by="created_at",
            sort=order,
        ):
            if _own(self._authored([issue])[0], "description", marker_token):
                return issue
        return None

    def create_issue(
        self,
        project: str | int,
        title: str,
        description: str,
        marker_token: str,
        *,
        reuses_marker: bool = False,
        converge: bool = False,
        **fields: Any,
    ) -> dict:
        """Marker-safe issue creation. ``reuses_marker``: the marker stands for one
        episode at a time (triage, escalation issues of an account), so after a lost
        answer only an *open* issue with it counts; a closed one is an earlier episode.
        ``converge``: an issue that concurrent runs may both create (the triage run's,
        which reactions run too): when another run made it just before, this one is
        closed as its duplicate and the first is returned (:meth:`_raced_by`)."""
        if marker_token not in description:
            raise ValueError("a bot issue must carry its marker in the description")
        description = inert_commands(description)  # No quick action runs
        state = "opened" if reuses_marker else "all"
        made = self.create(
            f"/projects/{enc(project)}/issues",
            f"create issue {title!r} in {project}",
            {"title": title, "description": description, **fields},
            find=lambda: self.find_issue_by_marker(
                project, marker_token, state=state, newest_first=True
            ),
            pace="issues",
        )
        self._check_assignees(f"{project}#{made.get('iid')} created", made, fields)
        first = self._raced_by(project, made, marker_token, state) if converge else None
        if first is not None:
            self._close_as_duplicate(project, made, first, marker_token)
            return first
        return made

    def _raced_by(
        self, project: str | int, made: Mapping[str, Any], marker_token: str, state: str
    ) -> dict | None:
        """The issue carrying the same marker that another run created just before
        ``made`` (a webhook reaction, a CI job and a manual rerun at once: each read
        "absent" before creating), or None when ``made`` is the first. Re-reading before
        the create cannot close that race; reading after it can: of two creates, the
        later one's read sees the earlier one, and only the later one steps back. One
        listing of the issues created in the last RACE_WINDOW (doc/api/issues.md
        ``created_after``): an older carrier would have been found before the create."""
        created = _stamp(made.get("created_at"))
        if created is None:
            return None
        window = created - RACE_WINDOW
        index = self.races.setdefault((str(project), state), _RaceIndex())
        since = window if index.newest is None else max(window, index.newest - RACE_MARGIN)
        for issue in self.issues(
            project,
            state=state,
            created_after=since.isoformat().replace("+00:00", "Z"),
            order_by="created_at",
            sort="asc",
        ):
            index.add(issue)
        first = index.first.get(marker_token)
        if first is None or first[1] < window or first[0] >= int(made["id"]):
            return None
        return first[2]

    def _close_as_duplicate(
        self, project: str | int, made: Mapping[str, Any], first: Mapping[str, Any], token: str
    ) -> None:
        """Close the issue this run made as a duplicate of ``first``, with a note why."""
        iid = int(made["iid"])
        note_token = markers.token("duplicate", f"{iid}")
        body = (
            f"{markers.marker('duplicate', str(iid))}\n"
            f"Closed as a duplicate of #{first['iid']}: another gl-csm run (a webhook "
            f"reaction, a CI job or a manual rerun at the same moment) made the same issue "
            f"({token}) just before this one. Nothing is lost: the bot goes on with "
            f"#{first['iid']}.\n"
        )
        self.create_note(project, iid, body, note_token)
        self.update_issue(project, iid, state_event="close")

    def update_issue(self, project: str | int, iid: int, **fields: Any) -> dict:
        if isinstance(fields.get("description"), str):
            fields["description"] = inert_commands(fields["description"])
        updated = self.put(
            f"/projects/{enc(project)}/issues/{iid}", f"update issue {project}#{iid}", fields
        )
        self._check_assignees(f"{project}#{iid} updated", updated, fields)
        return updated

    def _check_assignees(self, what: str, issue: dict, fields: Mapping[str, Any]) -> None:
        """The assignees GitLab kept, read from the create/update answer (no extra read).

        ``app/services/issuable_base_service.rb`` drops, without an error, assignees who
        cannot read the project, keeps only the first one on Free, and on an update that
        leaves nobody keeps the old assignees: a write that "succeeded" may not have
        assigned anyone. A dropped assignee is a named failure (:class:`PartialWrite`),
        never a silent success; the issue itself stays written.
        """
        if "assignee_ids" not in fields or not isinstance(issue, Mapping):
            return
        wanted = [int(i) for i in fields["assignee_ids"] or []]
        kept = {int(a["id"]) for a in issue.get("assignees") or [] if "id" in a}
        dropped = [i for i in wanted if i not in kept]
        if not dropped:
            return
        names = ", ".join(self.usernames.get(i, f"user id {i}") for i in dropped)
        raise PartialWrite(
            issue,
            f"issue {what}, but GitLab did not assign {names}: a user who cannot read the "
            f"project is dropped (add them as members of it), and GitLab Free keeps only the "
            f"first assignee (set gitlab_edition: premium only on a Premium instance)",
        )

    # -- notes ----------------------------------------------------------------------

    def notes(
        self, project: str | int, iid: int, *, kind: str = "issues", **query: Any
    ) -> list[dict]:
        return self._authored(
            self.list(
                f"/projects/{enc(project)}/{kind}/{iid}/notes",
                f"list notes of {project}#{iid}",
                **query,
            )
        )

    def create_note(
        self,
        project: str | int,
        iid: int,
        body: str,
        marker_token: str,
        *,
        kind: str = "issues",
        internal: bool = False,
    ) -> dict:
        if marker_token not in body:
            raise ValueError("a bot note must carry its marker")
        body = inert_commands(body)  # No quick action runs as the bot

        def find() -> dict | None:
            for note in self.notes(project, iid, kind=kind):
                if _own(note, "body", marker_token):
                    return note
            return None

        data: dict[str, Any] = {"body": body}
        if internal:
            data["internal"] = True
        return self.create(
            f"/projects/{enc(project)}/{kind}/{iid}/notes",
            f"comment on {project}#{iid}",
            data,
            find=find,
            pace="notes",
        )

    def update_note(
        self, project: str | int, iid: int, note_id: int, body: str, *, kind: str = "issues"
    ) -> dict:
        return self.put(
            f"/projects/{enc(project)}/{kind}/{iid}/notes/{note_id}",
            f"update note {note_id} on {project}#{iid}",
            {"body": inert_commands(body)},
        )
