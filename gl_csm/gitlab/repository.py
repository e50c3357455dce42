"""Repository files and commits, branches and merge requests."""

from __future__ import annotations

from itertools import islice
from typing import Any
from urllib.parse import quote

import gitlab

from gl_csm.errors import GitLabError
from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.reads import PER_PAGE
from gl_csm.gitlab.writes import Writes


class RepositoryCalls(Writes):
    # -- repository -----------------------------------------------------------------

    def tree(self, project: str | int, ref: str | None = None) -> list[dict]:
        query: dict[str, Any] = {"recursive": "true"}
        if ref:
            query["ref"] = ref
        return self.list(
            f"/projects/{enc(project)}/repository/tree", f"list files of {project}", **query
        )

    def folder(self, project: str | int, path: str, ref: str) -> list[dict]:
        """The entries of one folder (not recursive); [] for an empty repository or a
        folder that does not exist (doc/api/repositories.md: 404 ``Tree Not Found``)."""

        def call() -> list[dict]:
            try:
                pages = self.gl.http_list(
                    f"/projects/{enc(project)}/repository/tree",
                    query_data={"path": path, "ref": ref, "per_page": PER_PAGE},
                    iterator=True,
                    max_retries=self.max_retries,
                )
                return list(pages)  # type: ignore[arg-type]
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return []
                raise

        return self._wrap(f"list {path}/ of {project}", call)

    def file_text(self, project: str | int, file_path: str, ref: str) -> str | None:
        def call() -> str | None:
            try:
                raw = self.gl.http_get(
                    f"/projects/{enc(project)}/repository/files/{quote(file_path, safe='')}/raw",
                    query_data={"ref": ref},
                    raw=True,
                    max_retries=self.max_retries,
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 404:
                    return None
                raise
            content: bytes = raw.content  # type: ignore[union-attr]
            try:
                return content.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise GitLabError(
                    f"{file_path} of {project} is not UTF-8 text (byte 0x{content[exc.start]:02x} "
                    f"at offset {exc.start}); save it as UTF-8"
                ) from None

        return self._wrap(f"read {file_path} of {project}", call)

    def commits(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/repository/commits", f"list commits of {project}", **query
        )

    def commit(
        self,
        project: str | int,
        branch: str,
        message: str,
        actions: list[dict],
        marker_token: str,
        *,
        start_branch: str | None = None,
        force: bool = False,
    ) -> dict:
        """One commit with many file actions (doc/api/commits.md); the marker token in
        the message finds it again after a lost answer. ``start_branch`` creates
        ``branch`` from it; with ``force`` an existing ``branch`` is reset onto it."""

        def find() -> dict | None:
            recent = self.scan(
                f"/projects/{enc(project)}/repository/commits",
                f"list commits of {project}",
                ref_name=branch,
                per_page=20,
            )
            # The first page only (one request): a lost answer is minutes old at most.
            for c in islice(recent, 20):
                if marker_token in (c.get("message") or ""):
                    return c
            return None

        return self.create(
            f"/projects/{enc(project)}/repository/commits",
            f"commit {len(actions)} files to {project}",
            {
                "branch": branch,
                "commit_message": message,
                "actions": actions,
                **({"start_branch": start_branch} if start_branch else {}),
                **({"force": True} if force else {}),
            },
            find=find,
        )

    def branch(self, project: str | int, name: str) -> dict | None:
        """doc/api/branches.md "Get single repository branch"; None when absent."""
        return self.get(
            f"/projects/{enc(project)}/repository/branches/{quote(name, safe='')}",
            f"read branch {name} of {project}",
        )

    def merge_requests(self, project: str | int, **query: Any) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/merge_requests", f"list merge requests of {project}", **query
        )

    def create_merge_request(
        self, project: str | int, source: str, target: str, title: str, **fields: Any
    ) -> dict:
        """doc/api/merge_requests.md "Create MR"; after a lost answer, the open MR of
        the same source branch is the one that was created."""

        def find() -> dict | None:
            found = self.merge_requests(project, state="opened", source_branch=source)
            return found[0] if found else None

        return self.create(
            f"/projects/{enc(project)}/merge_requests",
            f"open a merge request from {source} in {project}",
            {"source_branch": source, "target_branch": target, "title": title, **fields},
            find=find,
        )

    # -- merge requests -------------------------------------------------------------

    def merge_request(self, project: str | int, iid: int) -> dict | None:
        return self.get(
            f"/projects/{enc(project)}/merge_requests/{iid}", f"read merge request {project}!{iid}"
        )

    def merge_request_diffs(self, project: str | int, iid: int) -> list[dict]:
        return self.list(
            f"/projects/{enc(project)}/merge_requests/{iid}/diffs",
            f"list changes of merge request {project}!{iid}",
        )
