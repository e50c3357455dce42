"""Sandbox state: plain JSON-able records, indexes, id counters and persistence.

Everything the emulator knows lives in one ``Store``. Records are plain dicts so
that the JSON file is the in-memory shape (no mapping layer to keep in sync),
and loading a file written by an older run only needs defaults for new keys
(``_upgrade``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gl_csm.sandbox.errors import not_found

FORMAT_VERSION = 1
BOT_USERNAME = "gl-csm-bot"

Record = dict[str, Any]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """GitLab's timestamp format: ``2024-01-31T12:00:00.000Z``."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Listing filters (created_after, updated_before...) parse every record's timestamp on
# every request; the strings repeat and datetimes are immutable, so parse each once.
@functools.lru_cache(maxsize=1 << 16)
def parse_iso(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Store:
    """All records plus lookups; not thread-safe by itself (the Sandbox holds the lock)."""

    def __init__(self, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.clock = clock
        self.counters: dict[str, int] = {}
        self.users: dict[int, Record] = {}
        self.namespaces: dict[int, Record] = {}  # groups and user namespaces share ids
        self.projects: dict[int, Record] = {}
        self.labels: dict[int, Record] = {}
        self.mentions: list[Record] = []
        # Old full path (lowercase) -> project id: routable.rb redirect routes.
        self.redirects: dict[str, int] = {}
        #: Filtered and sorted issue listings by request (:meth:`listing`); None: off.
        self.listings: dict[tuple, list] | None = None
        #: Bumped by the Sandbox on every write it processes: a listing memo is of one.
        self.generation = 0
        self._set_mode()
        self.ensure_user(BOT_USERNAME, name="gl-csm bot", is_admin=True)

    def _set_mode(self, edition: str = "free", search: str = "fulltext") -> None:
        """How strict the emulated GitLab is (editions.py); not persisted: a state file
        can be served as Free one day and Premium the next."""
        self.edition = edition
        self.search_mode = search

    def listing(self, key: tuple, build: Callable[[], list]) -> list:
        """``build()``, remembered under ``key`` until the next write when listings are
        memoised (``sandbox serve``: every change comes through a request). A client
        paging through 80 pages of one listing made the sandbox filter and sort every
        issue of the project again for each page; GitLab answers each page from an index
        (app/finders/issues_finder.rb, LIMIT/OFFSET), so the answers are the same."""
        if self.listings is None:
            return build()
        key = (self.generation, self.clock().date(), *key)
        found = self.listings.get(key)
        if found is None:
            if self.listings and next(iter(self.listings))[0] != self.generation:
                self.listings.clear()
            found = self.listings[key] = build()
        return found

    # -- ids and time ------------------------------------------------------
    def next_id(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def now(self) -> str:
        return iso(self.clock())

    # -- users -------------------------------------------------------------
    def ensure_user(
        self,
        username: str,
        *,
        name: str | None = None,
        is_admin: bool = False,
        email: str | None = None,
    ) -> Record:
        existing = self.user_by_username(username)
        if existing:
            return existing
        uid = self.next_id("user")
        ns_id = self.next_id("namespace")
        now = self.now()
        user = {
            "id": uid,
            "username": username,
            "name": name or username,
            "state": "active",
            "email": email or f"{username}@sandbox.test",
            "is_admin": is_admin,
            "namespace_id": ns_id,
            "created_at": now,
        }
        self.users[uid] = user
        self.namespaces[ns_id] = {
            "id": ns_id,
            "kind": "user",
            "name": user["name"],
            "path": username,
            "parent_id": None,
            "owner_id": uid,
            "description": "",
            "visibility": "public",
            "members": [],
            "created_at": now,
        }
        return user

    def token_owner(self, token: str) -> Record | None:
        """The user holding this personal access token (``tokens`` of a user record)."""
        for user in self.users.values():
            if token in (user.get("tokens") or ()):
                return user
        return None

    def user_by_username(self, username: str) -> Record | None:
        wanted = username.lower()
        for user in self.users.values():
            if user["username"].lower() == wanted:
                return user
        return None

    def user(self, user_id: int) -> Record:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise not_found("User") from None

    # -- namespaces and groups ----------------------------------------------
    def full_path(self, ns: Record) -> str:
        parts = [ns["path"]]
        while ns.get("parent_id"):
            ns = self.namespaces[ns["parent_id"]]
            parts.append(ns["path"])
        return "/".join(reversed(parts))

    def full_name(self, ns: Record) -> str:
        parts = [ns["name"]]
        while ns.get("parent_id"):
            ns = self.namespaces[ns["parent_id"]]
            parts.append(ns["name"])
        return " / ".join(reversed(parts))

    def ancestors(self, ns: Record) -> list[Record]:
        """The namespace and its parents, nearest first."""
        chain = [ns]
        while ns.get("parent_id"):
            ns = self.namespaces[ns["parent_id"]]
            chain.append(ns)
        return chain

    def descendants(self, ns: Record) -> list[Record]:
        out = [ns]
        for child in self.namespaces.values():
            if child.get("parent_id") == ns["id"]:
                out.extend(self.descendants(child))
        return out

    def namespace_by_path(self, path: str) -> Record | None:
        wanted = path.strip("/").lower()
        for ns in self.namespaces.values():
            if self.full_path(ns).lower() == wanted:
                return ns
        return None

    def find_namespace(self, ident: str, *, kind: str | None = None) -> Record | None:
        ns = self.namespaces.get(int(ident)) if ident.isdigit() else self.namespace_by_path(ident)
        if ns is None or (kind and ns["kind"] != kind):
            return None
        return ns

    def group(self, ident: str) -> Record:
        ns = self.find_namespace(ident, kind="group")
        if ns is None:
            raise not_found("Group")
        return ns

    # -- projects -------------------------------------------------------------
    def project_path(self, project: Record) -> str:
        return self.full_path(self.namespaces[project["namespace_id"]]) + "/" + project["path"]

    def find_project(self, ident: str, *, follow_redirects: bool = False) -> Record | None:
        if ident.isdigit():
            return self.projects.get(int(ident))
        wanted = ident.strip("/").lower()
        for project in self.projects.values():
            if self.project_path(project).lower() == wanted:
                return project
        if follow_redirects and wanted in self.redirects:
            return self.projects.get(self.redirects[wanted])
        return None

    def project(self, ident: str) -> Record:
        """The project for an API ``:id``: an id, or a full path that may be an old one
        (lib/api/helpers.rb ``find_project``: ``find_by_full_path(id, follow_redirects:
        true)``, so a transferred or renamed project is still found by its old path)."""
        project = self.find_project(ident, follow_redirects=True)
        if project is None:
            raise not_found("Project")
        return project

    def add_redirect(self, old_full_path: str, project: Record) -> None:
        """Route#create_redirect_for_old_path after a transfer or path change."""
        self.redirects[old_full_path.lower()] = project["id"]

    def claim_path(self, full_path: str) -> None:
        """Route#delete_conflicting_redirects: a new route takes over redirects at its path
        and below (RedirectRoute.matching_path_and_descendants)."""
        wanted = full_path.lower()
        for old in [p for p in self.redirects if p == wanted or p.startswith(wanted + "/")]:
            del self.redirects[old]

    def project_groups(self, project: Record) -> list[Record]:
        """The project's group ancestors (nearest first); empty for personal projects."""
        ns = self.namespaces[project["namespace_id"]]
        return [n for n in self.ancestors(ns) if n["kind"] == "group"]

    def iter_issuables(self, project: Record) -> Iterator[tuple[str, Record]]:
        for issue in project["issues"].values():
            yield "Issue", issue
        for mr in project["merge_requests"].values():
            yield "MergeRequest", mr

    # -- persistence -------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        projects = []
        for project in self.projects.values():
            doc = dict(project)
            doc["issues"] = list(project["issues"].values())
            doc["merge_requests"] = list(project["merge_requests"].values())
            projects.append(doc)
        return {
            "version": FORMAT_VERSION,
            "counters": dict(self.counters),
            "users": list(self.users.values()),
            "namespaces": list(self.namespaces.values()),
            "projects": projects,
            "labels": list(self.labels.values()),
            "mentions": list(self.mentions),
            "redirect_routes": [
                {"path": path, "project_id": pid} for path, pid in sorted(self.redirects.items())
            ],
        }

    @classmethod
    def from_document(
        cls, doc: Any, source: str, clock: Callable[[], dt.datetime] = utc_now
    ) -> Store:
        if not isinstance(doc, dict):
            raise ValueError(f"sandbox state file {source}: expected a JSON object")
        version = doc.get("version", 1)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"sandbox state file {source}: format version {version!r} is newer than "
                f"this gl-csm understands ({FORMAT_VERSION})"
            )
        store = cls.__new__(cls)
        store.clock = clock
        store.listings, store.generation = None, 0
        store._set_mode()
        try:
            store.counters = {str(k): int(v) for k, v in doc.get("counters", {}).items()}
            store.users = {int(u["id"]): u for u in doc.get("users", [])}
            store.namespaces = {int(n["id"]): n for n in doc.get("namespaces", [])}
            store.labels = {int(lb["id"]): lb for lb in doc.get("labels", [])}
            store.mentions = list(doc.get("mentions", []))
            store.redirects = {
                str(r["path"]).lower(): int(r["project_id"]) for r in doc.get("redirect_routes", [])
            }
            store.projects = {}
            for project in doc.get("projects", []):
                project = dict(project)
                project["issues"] = {int(i["iid"]): i for i in project.get("issues", [])}
                project["merge_requests"] = {
                    int(m["iid"]): m for m in project.get("merge_requests", [])
                }
                store.projects[int(project["id"])] = project
            store._upgrade()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"sandbox state file {source}: malformed content ({exc})") from exc
        store.ensure_user(BOT_USERNAME, name="gl-csm bot", is_admin=True)
        return store

    def _upgrade(self) -> None:
        """Fill keys that older files may lack, so every record has the current shape."""
        for user in self.users.values():
            user.setdefault("state", "active")
            # The bot of a file written before per-user rights is the administrator
            # every token used to be.
            user.setdefault("is_admin", user["username"] == BOT_USERNAME)
            user.setdefault("email", f"{user['username']}@sandbox.test")
            user.setdefault("name", user["username"])
            user.setdefault("created_at", self.now())
            if "namespace_id" not in user:
                ns_id = self.next_id("namespace")
                while ns_id in self.namespaces:
                    ns_id = self.next_id("namespace")
                user["namespace_id"] = ns_id
                self.namespaces[ns_id] = {
                    "id": ns_id,
                    "kind": "user",
                    "name": user["name"],
                    "path": user["username"],
                    "parent_id": None,
                    "owner_id": user["id"],
                }
        for ns in self.namespaces.values():
            ns.setdefault("kind", "group")
            ns.setdefault("parent_id", None)
            ns.setdefault("description", "")
            ns.setdefault("visibility", "private")
            ns.setdefault("members", [])
            ns.setdefault("created_at", self.now())
        for label in self.labels.values():
            label.setdefault("description", None)
            label.setdefault("priority", None)
            label.setdefault("project_id", None)
            label.setdefault("group_id", None)
        for project in self.projects.values():
            project.setdefault("description", "")
            project.setdefault("topics", [])
            project.setdefault("visibility", "private")
            project.setdefault("archived", False)
            project.setdefault("default_branch", "main")
            project.setdefault("members", [])
            project.setdefault("created_at", self.now())
            project.setdefault("milestones", [])
            for index, ms in enumerate(project["milestones"], start=1):
                ms.setdefault("iid", index)
                ms.setdefault("state", "active")
                ms.setdefault("created_at", project["created_at"])
                ms.setdefault("updated_at", ms["created_at"])
            project.setdefault("last_activity_at", project["created_at"])
            repo = project.setdefault("repository", {})
            repo.setdefault("branches", {})
            repo.setdefault("commits", {})
            project.setdefault("counters", {})
            for kind, issuable in self.iter_issuables(project):
                issuable.setdefault("state", "opened")
                issuable.setdefault("created_at", project["created_at"])
                issuable.setdefault("updated_at", issuable["created_at"])
                issuable.setdefault("author_id", project.get("creator_id") or 1)
                issuable.setdefault("notes", [])
                issuable.setdefault("label_events", [])
                issuable.setdefault("label_ids", [])
                issuable.setdefault("assignee_ids", [])
                issuable.setdefault("milestone_id", None)
                issuable.setdefault("description", "")
                issuable.setdefault("confidential", False)
                issuable.setdefault("discussion_locked", None)
                issuable.setdefault("due_date", None)
                issuable.setdefault("closed_at", None)
                issuable.setdefault("closed_by_id", None)
                if kind == "MergeRequest":
                    issuable.setdefault("changes", [])
                    issuable.setdefault("source_branch", f"mr-{issuable['iid']}")
                    issuable.setdefault("target_branch", project["default_branch"])
        # Counters must stay above every stored id even if the file lacks them.
        self._raise_counter("user", self.users)
        self._raise_counter("namespace", self.namespaces)
        self._raise_counter("project", self.projects)
        self._raise_counter("label", self.labels)
        for ns in self.namespaces.values():
            self._raise_counter("milestone", {m["id"]: m for m in ns.get("milestones") or []})
        for project in self.projects.values():
            counters = project["counters"]
            for key, records in (
                ("issue_iid", project["issues"]),
                ("mr_iid", project["merge_requests"]),
            ):
                counters[key] = max([counters.get(key, 0), *records])
            counters["milestone_iid"] = max(
                [counters.get("milestone_iid", 0), *(m["iid"] for m in project["milestones"])]
            )
            self._raise_counter("milestone", {m["id"]: m for m in project["milestones"]})
            self._raise_counter("issue", {i["id"]: i for i in project["issues"].values()})
            self._raise_counter(
                "merge_request", {m["id"]: m for m in project["merge_requests"].values()}
            )
            for _, item in self.iter_issuables(project):
                self._raise_counter("note", {n["id"]: n for n in item["notes"]})
                self._raise_counter("label_event", {e["id"]: e for e in item["label_events"]})

    def _raise_counter(self, kind: str, records: dict[int, Record]) -> None:
        if records:
            self.counters[kind] = max(self.counters.get(kind, 0), max(records))


def load_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"sandbox state file {path}: cannot read ({exc})") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"sandbox state file {path} is not valid JSON: {exc}") from exc


def write_atomically(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and ``os.replace`` (never a half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
