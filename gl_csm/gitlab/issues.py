"""Milestones, issues and notes; bot issues and notes are found by their hidden marker,
never by GitLab's search (ARCHITECTURE rule 3), and the assignees GitLab kept are
checked on every write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gl_csm import markers
from gl_csm.errors import PartialWrite
from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.writes import Writes
from gl_csm.templates import inert_commands


def _carries(text: str | None, marker_token: str) -> bool:
    """Whether ``text`` carries exactly this marker token (not one it is a prefix of)."""
    return any(f"gl-csm:{k}:{v}" == marker_token for k, v in markers.markers_in(text))


class IssueCalls(Writes):
    # -- milestones -----------------------------------------------------------------

    def milestones(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/milestones", f"list milestones of {project}", **query
        )

    def create_milestone(self, project: str | int, title: str, **fields: Any) -> dict:
        def find() -> dict | None:
            same = [m for m in self.milestones(project, title=title) if m.get("title") == title]
            return same[0] if same else None

        return self.create(
            f"/projects/{enc(project)}/milestones",
            f"create milestone {title!r} in {project}",
            {"title": title, **fields},
            find=find,
        )

    # -- issues ---------------------------------------------------------------------

    def issues(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(f"/projects/{enc(project)}/issues", f"list issues of {project}", **query)

    def group_issues(self, group: str | int, **query: Any) -> list[dict]:
        """The issues of every project of a group and its subgroups, in one listing
        (doc/api/issues.md "List group issues"; ``updated_after`` narrows it)."""
        return self.list(f"/groups/{enc(group)}/issues", f"list issues of group {group}", **query)

    def issue(self, project: str | int, iid: int) -> dict | None:
        return self.get(f"/projects/{enc(project)}/issues/{iid}", f"read issue {project}#{iid}")

    def issues_by_iid(
        self, project: str | int, iids: Iterable[int], *, state: str = "all"
    ) -> list[dict]:
        """The issues with these iids, in one listing (doc/api/issues.md ``iids[]``)."""
        wanted = sorted({int(i) for i in iids})
        if not wanted:
            return []
        return self.list(
            f"/projects/{enc(project)}/issues",
            f"read issues {project}#{','.join(map(str, wanted))}",
            state=state,
            **{"iids[]": wanted},
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
            mine = [i for i in found if _carries(i.get("description"), marker_token)]
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
            if _carries(issue.get("description"), marker_token):
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
        **fields: Any,
    ) -> dict:
        """Marker-safe issue creation. ``reuses_marker``: the marker stands for one
        episode at a time (triage, escalation issues of an account), so after a lost
        answer only an *open* issue with it counts; a closed one is an earlier episode."""
        if marker_token not in description:
            raise ValueError("a bot issue must carry its marker in the description")
        description = inert_commands(description)  # issue 10: no quick action runs
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
        return made

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
        return self.list(
            f"/projects/{enc(project)}/{kind}/{iid}/notes",
            f"list notes of {project}#{iid}",
            **query,
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
        body = inert_commands(body)  # issue 10: no quick action runs as the bot

        def find() -> dict | None:
            for note in self.notes(project, iid, kind=kind):
                if _carries(note.get("body"), marker_token):
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
