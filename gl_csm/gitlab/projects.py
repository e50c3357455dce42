"""Users, groups, projects and members; the instance and token reads of
``gl-csm doctor``.
"""

from __future__ import annotations

from typing import Any

import gitlab

from gl_csm.errors import ConfigError, GitLabError, GitLabUnreachable
from gl_csm.gitlab.paths import enc
from gl_csm.gitlab.writes import Writes


class ProjectCalls(Writes):
    # -- users, groups, projects ----------------------------------------------------

    def check_connection(self) -> dict:
        """The token's user, or GitLabUnreachable (exit 2, nothing done) when GitLab
        cannot be reached or refuses the token (SPEC 7 exit codes)."""
        try:
            user = self.current_user()
        except ConfigError as exc:  # 401: the token
            raise GitLabUnreachable(str(exc)) from None
        except GitLabError as exc:
            raise GitLabUnreachable(
                f"{exc}; nothing was done (check the URL, the network and GITLAB_TOKEN, "
                f"or run `gl-csm doctor`)"
            ) from None
        if isinstance(user.get("id"), int):
            self.bot_id = user["id"]
        return user

    # -- instance and token (gl-csm doctor) ----------------------------------------

    def version(self) -> Any:
        """GET /version (doc/api/version.md): a dict with ``version`` on GitLab."""
        return self.get("/version", "read GitLab's version")

    def metadata(self) -> dict | None:
        """GET /metadata (doc/api/metadata.md): ``enterprise`` says EE or CE."""
        found = self.get("/metadata", "read GitLab's metadata")
        return found if isinstance(found, dict) else None

    def token_self(self) -> dict | None:
        """GET /personal_access_tokens/self (doc/api/personal_access_tokens.md)."""
        found = self.get("/personal_access_tokens/self", "read the token's scopes and expiry")
        return found if isinstance(found, dict) else None

    def license(self) -> dict | None:
        """GET /license (doc/api/license.md): administrators only (403 otherwise)."""
        found = self.get("/license", "read the instance's license")
        return found if isinstance(found, dict) else None

    def member_access(self, kind: str, path: str | int, user_id: int) -> int | None:
        """The user's effective access level on a group or project (inherited included,
        doc/api/members.md "members/all/:user_id"); None when not a member."""
        assert kind in ("groups", "projects")
        found = self.get(
            f"/{kind}/{enc(path)}/members/all/{user_id}", f"read {user_id}'s access to {path}"
        )
        return int(found["access_level"]) if isinstance(found, dict) else None

    def current_user(self) -> dict:
        user = self.get("/user", "read the token's user")
        if not isinstance(user, dict):
            # A server that answers JSON but has no GET /api/v4/user is not GitLab's API.
            raise GitLabUnreachable(
                f"{self.url} answered 404 for /api/v4/user: no GitLab API there; check "
                f"GITLAB_URL (the GitLab root, not a project or group page)"
            )
        return user

    def user(self, username: str) -> dict | None:
        found = self.list("/users", f"look up user {username!r}", username=username)
        if found:
            self.usernames[int(found[0]["id"])] = found[0].get("username") or username
        return found[0] if found else None

    def group(self, path: str | int) -> dict | None:
        return self.get(f"/groups/{enc(path)}", f"read group {path}")

    def project(self, path: str | int) -> dict | None:
        return self.get(f"/projects/{enc(path)}", f"read project {path}")

    def create_project(self, namespace: dict, path: str, name: str, **fields: Any) -> dict:
        full = f"{namespace['full_path']}/{path}"
        return self.create(
            "/projects",
            f"create project {full}",
            {"namespace_id": namespace["id"], "path": path, "name": name, **fields},
            find=lambda: self.project(full),
        )

    def update_project(self, project: str | int, **fields: Any) -> dict:
        return self.put(f"/projects/{enc(project)}", f"update project {project}", fields)

    def transfer_project(self, project: str | int, namespace: str | int) -> dict:
        """Move a project (doc/api/projects.md, "Transfer a project to a new namespace").

        A PUT, but not repeatable in effect: a repeat answers 400 "Project is already
        in this namespace", so after a lost answer check where the project is first.
        """
        target = str(namespace)

        def find() -> dict | None:
            now = self.project(project)
            moved = now is not None and target in (
                str(now["namespace"]["id"]),
                now["namespace"]["full_path"],
            )
            return now if moved else None

        def send() -> dict:
            return self._write(
                f"/projects/{enc(project)}/transfer",
                lambda target: self.gl.http_put(  # type: ignore[return-value]
                    target,
                    post_data={"namespace": namespace},
                    retry_transient_errors=False,
                    max_retries=self.max_retries,
                ),
            )

        return self._retry_safe(f"transfer project {project} to {namespace}", send, find)

    def members(self, project: str | int, *, inherited: bool = False) -> list[dict]:
        suffix = "/members/all" if inherited else "/members"
        return self.list(f"/projects/{enc(project)}{suffix}", f"list members of {project}")

    def member(self, project: str | int, user_id: int, *, inherited: bool = False) -> dict | None:
        """One member (``/members/all/:user_id`` counts inherited membership), None when
        the user is not one (doc/api/members.md)."""
        suffix = "/members/all" if inherited else "/members"
        return self.get(
            f"/projects/{enc(project)}{suffix}/{user_id}", f"read member {user_id} of {project}"
        )

    def add_member(self, project: str | int, user_id: int, access_level: int) -> dict:
        """Add a member; an existing membership (409) is updated to the level instead."""

        def call() -> dict | None:
            try:
                return self._write(
                    f"/projects/{enc(project)}/members",
                    lambda target: self.gl.http_post(  # type: ignore[return-value]
                        target,
                        post_data={"user_id": user_id, "access_level": access_level},
                        max_retries=self.max_retries,
                    ),
                )
            except gitlab.GitlabHttpError as exc:
                if exc.response_code == 409:
                    return None
                raise

        added = self._wrap(f"add member {user_id} to {project}", call)
        return added if added is not None else self.update_member(project, user_id, access_level)

    def update_member(self, project: str | int, user_id: int, access_level: int) -> dict:
        return self.put(
            f"/projects/{enc(project)}/members/{user_id}",
            f"set member {user_id} of {project} to access level {access_level}",
            {"access_level": access_level},
        )
