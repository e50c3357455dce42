"""Labels of groups and projects (doc/api/labels.md) and issue boards
(doc/api/boards.md).
"""

from __future__ import annotations

import gitlab

from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.writes import Writes


class LabelCalls(Writes):
    # -- labels ---------------------------------------------------------------------

    def labels(self, kind: str, where: str | int, *, inherited: bool = True) -> list[dict]:
        """The labels of a group or project (``kind``: "group" or "project"); with
        ``inherited`` those of its ancestor groups too (doc/api/labels.md,
        doc/api/group_labels.md: ``include_ancestor_groups``)."""
        assert kind in ("group", "project")
        return self.list(
            f"/{kind}s/{enc(where)}/labels",
            f"list {'' if inherited else 'own '}labels of {kind} {where}",
            include_ancestor_groups="true" if inherited else "false",
        )

    def group_labels(self, group: str | int) -> list[dict]:
        return self.labels("group", group)

    def project_labels(self, project: str | int) -> list[dict]:
        return self.labels("project", project)

    def create_label(
        self, kind: str, where: str | int, name: str, color: str, description: str
    ) -> bool:
        """True when created, False when it already existed (409, doc/api/labels.md)."""
        assert kind in ("group", "project")

        def call() -> bool:
            try:
                self._write(
                    f"/{kind}s/{enc(where)}/labels",
                    lambda target: self.gl.http_post(
                        target,
                        post_data={"name": name, "color": color, "description": description},
                        max_retries=self.max_retries,
                    ),
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 409:
                    return False
                raise
            return True

        return self._wrap(f"create label {name!r} in {kind} {where}", call)

    def update_label(
        self, kind: str, where: str | int, label_id: int, color: str, description: str
    ) -> dict:
        """PUT /groups|projects/:id/labels/:label_id (doc/api/group_labels.md "Update a
        group label", doc/api/labels.md "Edit an existing label")."""
        assert kind in ("group", "project")
        return self.put(
            f"/{kind}s/{enc(where)}/labels/{label_id}",
            f"update label {label_id} in {kind} {where}",
            {"color": color, "description": description},
        )

    # -- issue boards (doc/api/boards.md) ------------------------------------------

    def project_boards(self, project: str | int) -> list[dict]:
        return self.list(f"/projects/{enc(project)}/boards", f"list boards of {project}")

    def create_project_board(self, project: str | int, name: str) -> dict:
        """A board, found again by name after a lost answer (boards carry no marker)."""

        def find() -> dict | None:
            same = [b for b in self.project_boards(project) if b.get("name") == name]
            return same[0] if same else None

        return self.create(
            f"/projects/{enc(project)}/boards",
            f"create board {name!r} in {project}",
            {"name": name},
            find=find,
        )

    def create_board_list(self, project: str | int, board_id: int, label_id: int) -> dict:
        """A label list; GitLab refuses a second list of one label, so a retry is safe."""
        path = f"/projects/{enc(project)}/boards/{board_id}/lists"

        def find() -> dict | None:
            for item in self.list(path, f"list lists of board {board_id} of {project}"):
                if (item.get("label") or {}).get("id") == label_id:
                    return item
            return None

        return self.create(
            path,
            f"add list {label_id} to board {board_id} of {project}",
            {"label_id": label_id},
            find=find,
        )
