"""Labels of groups and projects (doc/api/labels.md) and issue boards
(doc/api/boards.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gitlab

from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.writes import Writes


class LabelCalls(Writes):
    # -- labels ---------------------------------------------------------------------

    def group_labels(self, group: str | int) -> list[dict]:
        return self.list(
            f"/groups/{enc(group)}/labels",
            f"list labels of group {group}",
            include_ancestor_groups="true",
        )

    def project_labels(self, project: str | int) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/labels",
            f"list labels of project {project}",
            include_ancestor_groups="true",
        )

    def _create_label(self, path: str, what: str, data: Mapping[str, Any]) -> bool:
        """True when created, False when it already existed (409, doc/api/labels.md)."""

        def call() -> bool:
            try:
                self.gl.http_post(path, post_data=dict(data), max_retries=self.max_retries)
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 409:
                    return False
                raise
            return True

        return self._wrap(what, call)

    def create_group_label(self, group: str | int, name: str, color: str, description: str) -> bool:
        return self._create_label(
            f"/groups/{enc(group)}/labels",
            f"create label {name!r} in group {group}",
            {"name": name, "color": color, "description": description},
        )

    def create_project_label(
        self, project: str | int, name: str, color: str, description: str
    ) -> bool:
        return self._create_label(
            f"/projects/{enc(project)}/labels",
            f"create label {name!r} in project {project}",
            {"name": name, "color": color, "description": description},
        )

    def own_group_labels(self, group: str | int) -> list[dict]:
        """The labels of the group itself, without those inherited from its ancestors."""
        return self.list(
            f"/groups/{enc(group)}/labels",
            f"list own labels of group {group}",
            include_ancestor_groups="false",
        )

    def update_group_label(
        self, group: str | int, label_id: int, color: str, description: str
    ) -> dict:
        """PUT /groups/:id/labels/:label_id (doc/api/group_labels.md, "Update a group label")."""
        return self.put(
            f"/groups/{enc(group)}/labels/{label_id}",
            f"update label {label_id} in group {group}",
            {"color": color, "description": description},
        )

    def update_project_label(
        self, project: str | int, label_id: int, color: str, description: str
    ) -> dict:
        """PUT /projects/:id/labels/:label_id (doc/api/labels.md, "Edit an existing label")."""
        return self.put(
            f"/projects/{enc(project)}/labels/{label_id}",
            f"update label {label_id} in project {project}",
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
