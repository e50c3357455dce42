"""Repository files, commits, tree and branches (doc/api/commits.md,
doc/api/repository_files.md, doc/api/repositories.md, doc/api/branches.md).

A commit with several actions is all-or-nothing: every action is checked against
the files as they would be after the previous actions, and nothing is stored if
one fails (doc/api/commits.md, "Create a commit with multiple files and actions").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import ApiError, bad_request, forbidden, invalid, missing, not_found
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply, no_content
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

ACTIONS = ("create", "update", "delete", "move", "chmod")


def blob_sha(content: bytes) -> str:
    """Git's blob id: sha1 of ``blob <size>\\0<content>``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def file_bytes(entry: Record) -> bytes:
    return base64.b64decode(entry["content"])


def resolve_ref(project: Record, ref: str | None) -> Record | None:
    """A branch, or a commit sha (full or short), as {"head", "files"}; None if unknown."""
    repo = project["repository"]
    ref = ref or project["default_branch"]
    if ref in repo["branches"]:
        return repo["branches"][ref]
    for sha, commit in repo["commits"].items():
        if len(ref) >= 7 and sha.startswith(ref):
            return {"head": sha, "files": commit["tree"]}
    return None


def commit_files(
    store: Store,
    project: Record,
    *,
    branch: str,
    message: str,
    actions: list[dict[str, Any]],
    author_id: int,
    start_branch: str | None = None,
    force: bool = False,
) -> str:
    repo = project["repository"]
    if force and start_branch and start_branch in repo["branches"]:
        # doc/api/commits.md `force`: overwrite the branch with a commit on start_branch.
        base = repo["branches"][start_branch]
    elif branch in repo["branches"]:
        base = repo["branches"][branch]
    elif start_branch:
        start = repo["branches"].get(start_branch)
        if start is None:
            raise bad_request(f"Invalid reference name: {start_branch}")
        base = start
    elif not repo["branches"]:
        base = {"head": None, "files": {}}
    else:
        raise bad_request("You can only create or edit files when you are on a branch")

    files: dict[str, Record] = {k: dict(v) for k, v in base["files"].items()}
    additions = deletions = 0
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            raise ApiError(400, {"error": f"actions[{index}] is invalid"})
        kind = action.get("action")
        if kind is None:
            raise missing(f"actions[{index}][action]")
        if kind not in ACTIONS:
            raise invalid(f"actions[{index}][action]")
        path = action.get("file_path")
        if not path:
            raise missing(f"actions[{index}][file_path]")
        path = str(path).strip("/")
        encoding = action.get("encoding", "text") or "text"
        if encoding not in ("text", "base64"):
            raise invalid(f"actions[{index}][encoding]")
        raw = _content(action, encoding, index)
        if kind == "create":
            if path in files:
                raise bad_request("A file with this name already exists")
            files[path] = {"content": base64.b64encode(raw or b"").decode()}
            additions += _lines(raw)
        elif kind == "update":
            if path not in files:
                raise bad_request("A file with this name doesn't exist")
            deletions += _lines(file_bytes(files[path]))
            files[path] = {"content": base64.b64encode(raw or b"").decode()}
            additions += _lines(raw)
        elif kind == "delete":
            if path not in files:
                raise bad_request("A file with this name doesn't exist")
            deletions += _lines(file_bytes(files.pop(path)))
        elif kind == "move":
            previous = action.get("previous_path")
            if not previous:
                raise missing(f"actions[{index}][previous_path]")
            previous = str(previous).strip("/")
            if previous not in files:
                raise bad_request("A file with this name doesn't exist")
            if path in files and path != previous:
                raise bad_request("A file with this name already exists")
            old = files.pop(previous)
            files[path] = {"content": base64.b64encode(raw).decode()} if raw is not None else old
        elif path not in files:  # chmod
            raise bad_request("A file with this name doesn't exist")

    now = store.now()
    user = store.users[author_id]
    seed = f"{project['id']}:{store.next_id('commit')}:{message}:{now}".encode()
    sha = hashlib.sha1(seed).hexdigest()
    for path, entry in files.items():
        before = base["files"].get(path)
        if before is None or before["content"] != entry["content"] or "last_commit_id" not in entry:
            entry["last_commit_id"] = sha
        entry["blob_id"] = blob_sha(file_bytes(entry))
    repo["commits"][sha] = {
        "message": message,
        "author_name": user["name"],
        "author_email": user["email"],
        "created_at": now,
        "parent_ids": [base["head"]] if base["head"] else [],
        "tree": files,
        "stats": {"additions": additions, "deletions": deletions, "total": additions + deletions},
    }
    repo["branches"][branch] = {"head": sha, "files": files}
    project["last_activity_at"] = now
    return sha


def _content(action: dict[str, Any], encoding: str, index: int) -> bytes | None:
    content = action.get("content")
    if content is None:
        return None if action.get("action") == "move" else b""
    if encoding == "base64":
        try:
            return base64.b64decode(str(content), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, {"error": f"actions[{index}][content] is invalid"}) from None
    return str(content).encode("utf-8")


def _lines(data: bytes | None) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


@route("POST", "/projects/:id/repository/commits")
def post_commit(store: Store, req: ApiRequest, id: str) -> Any:
    if req.job_token:
        raise forbidden()
    project = store.project(id)
    if project["archived"]:
        raise forbidden()
    absent = [n for n in ("branch", "commit_message", "actions") if not req.has(n)]
    if absent:
        raise missing(*absent)
    actions = req.params["actions"]
    if not isinstance(actions, list) or not actions:
        raise ApiError(400, {"error": "actions is empty"})
    sha = commit_files(
        store,
        project,
        branch=req.required_str("branch"),
        message=req.required_str("commit_message"),
        actions=actions,
        author_id=req.user_id,
        start_branch=req.str("start_branch"),
        force=bool(req.bool("force", False)),
    )
    return entities.commit(store, project, sha, req.base_url, detail=True)


@route("GET", "/projects/:id/repository/commits")
def list_commits(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    repo = project["repository"]
    if not repo["commits"]:
        return paginate(req, [])
    ref = resolve_ref(project, req.str("ref_name"))
    if ref is None:
        raise not_found("Commit")
    shas: list[str] = []
    cursor = ref["head"]
    while cursor:
        shas.append(cursor)
        parents = repo["commits"][cursor]["parent_ids"]
        cursor = parents[0] if parents else None
    path = req.str("path")
    if path:
        path = path.strip("/")
        shas = [s for s in shas if _touches(repo, s, path)]
    since, until = req.datetime("since"), req.datetime("until")
    from gl_csm.sandbox.store import parse_iso

    if since:
        shas = [s for s in shas if parse_iso(repo["commits"][s]["created_at"]) >= since]
    if until:
        shas = [s for s in shas if parse_iso(repo["commits"][s]["created_at"]) <= until]
    return paginate(req, shas, lambda s: entities.commit(store, project, s, req.base_url))


def _touches(repo: Record, sha: str, path: str) -> bool:
    commit = repo["commits"][sha]
    parent = repo["commits"][commit["parent_ids"][0]]["tree"] if commit["parent_ids"] else {}
    tree = commit["tree"]
    for name in set(tree) | set(parent):
        if (name == path or name.startswith(path + "/")) and tree.get(name, {}).get(
            "content"
        ) != parent.get(name, {}).get("content"):
            return True
    return False


@route("GET", "/projects/:id/repository/commits/:sha")
def get_commit(store: Store, req: ApiRequest, id: str, sha: str) -> Any:
    project = store.project(id)
    ref = resolve_ref(project, sha)
    if ref is None or ref["head"] is None:
        raise not_found("Commit")
    return entities.commit(store, project, ref["head"], req.base_url, detail=True)


@route("GET", "/projects/:id/repository/tree")
def tree(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    ref = resolve_ref(project, req.str("ref"))
    if ref is None:
        # No such commit, which includes an empty repository (lib/api/repositories.rb);
        # a path that does not exist in the commit is an empty list instead.
        raise not_found("Tree")
    base = (req.str("path") or "").strip("/")
    recursive = bool(req.bool("recursive", False))
    entries: dict[str, str] = {}
    for path in ref["files"]:
        if base and not path.startswith(base + "/"):
            continue
        rest = path[len(base) + 1 :] if base else path
        parts = rest.split("/")
        prefix = base
        for depth, part in enumerate(parts):
            prefix = f"{prefix}/{part}" if prefix else part
            kind = "blob" if depth == len(parts) - 1 else "tree"
            entries[prefix] = kind
            if not recursive:
                break
    out = []
    for path, kind in sorted(entries.items(), key=lambda e: (e[1] != "tree", e[0])):
        sha = (
            ref["files"][path]["blob_id"]
            if kind == "blob"
            else hashlib.sha1(f"tree:{ref['head']}:{path}".encode()).hexdigest()
        )
        out.append(
            {
                "id": sha,
                "name": path.rsplit("/", 1)[-1],
                "type": kind,
                "path": path,
                "mode": "100644" if kind == "blob" else "040000",
            }
        )
    return paginate(req, out)


def _file(
    store: Store, project: Record, file_path: str, ref_name: str | None
) -> tuple[Record, Record, str]:
    ref = resolve_ref(project, ref_name)
    if ref is None:
        raise not_found("Commit")
    path = file_path.strip("/")
    entry = ref["files"].get(path)
    if entry is None:
        raise not_found("File")
    return ref, entry, path


@route("GET", "/projects/:id/repository/files/:file_path")
def get_file(store: Store, req: ApiRequest, id: str, file_path: str) -> Any:
    project = store.project(id)
    ref_name = req.required_str("ref")
    ref, entry, path = _file(store, project, file_path, ref_name)
    data = file_bytes(entry)
    return {
        "file_name": path.rsplit("/", 1)[-1],
        "file_path": path,
        "size": len(data),
        "encoding": "base64",
        "content": entry["content"],
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "ref": ref_name,
        "blob_id": entry["blob_id"],
        "commit_id": ref["head"],
        "last_commit_id": entry["last_commit_id"],
        "execute_filemode": False,
    }


@route("GET", "/projects/:id/repository/files/:file_path/raw")
def get_raw(store: Store, req: ApiRequest, id: str, file_path: str) -> Reply:
    project = store.project(id)
    _, entry, _ = _file(store, project, file_path, req.str("ref"))
    return Reply(
        200,
        None,
        {"X-Gitlab-Blob-Id": entry["blob_id"], "X-Gitlab-Last-Commit-Id": entry["last_commit_id"]},
        raw=file_bytes(entry),
        content_type="text/plain; charset=utf-8",
    )


# Protected branches live with the branches they protect (branches.py serves their
# routes); the default branch is protected when the project gets it.
def protected_list(project: Record) -> list[Record]:
    """The project's protected branches; the default branch protected by default."""
    if "protected_branches" not in project:
        default = project["default_branch"]
        if default not in project["repository"]["branches"]:
            return []
        project["protected_branches"] = [
            {"id": project["id"] * 1000 + 1, "name": default, "push": 40, "merge": 40}
        ]
    return project["protected_branches"]


def is_protected(project: Record, name: str) -> bool:
    return any(p["name"] == name for p in protected_list(project))


def branch_entity(store: Store, project: Record, name: str, base: str) -> Record:
    """Entities::Branch; ``protected`` as the project's protected branches say."""
    branch = project["repository"]["branches"][name]
    return {
        "name": name,
        "merged": False,
        "protected": is_protected(project, name),
        "default": name == project["default_branch"],
        "developers_can_push": False,
        "developers_can_merge": False,
        "can_push": True,
        "web_url": f"{base}/{store.project_path(project)}/-/tree/{name}",
        "commit": entities.commit(store, project, branch["head"], base),
    }


@route("GET", "/projects/:id/repository/branches")
def list_branches(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    names = sorted(project["repository"]["branches"])
    return paginate(req, [branch_entity(store, project, n, req.base_url) for n in names])


@route("GET", "/projects/:id/repository/branches/:branch")
def get_branch(store: Store, req: ApiRequest, id: str, branch: str) -> Any:
    project = store.project(id)
    if branch not in project["repository"]["branches"]:
        raise not_found("Branch")
    return branch_entity(store, project, branch, req.base_url)


# -- files: create, update, delete (doc/api/repository_files.md) -----------------------


def _file_write(store: Store, req: ApiRequest, id: str, file_path: str, action: str) -> Any:
    """One commit with one action (lib/api/files.rb via Files::*Service): ``branch`` and
    ``commit_message`` required; ``content`` too for create and update. Answers
    ``{"file_path", "branch"}``; errors as the commit route's."""
    project = store.project(id)
    writable_repo(project, req)
    branch = req.required_str("branch")
    message = req.required_str("commit_message")
    entry: dict[str, Any] = {"action": action, "file_path": file_path}
    if action != "delete":
        if not req.has("content"):
            raise missing("content")
        entry["content"] = req.str("content") or ""
        encoding = req.choice("encoding", ("text", "base64"))
        if encoding:
            entry["encoding"] = encoding
    commit_files(
        store,
        project,
        branch=branch,
        message=message,
        actions=[entry],
        author_id=req.user_id,
        start_branch=req.str("start_branch"),
    )
    return {"file_path": file_path, "branch": branch}


def writable_repo(project: Record, req: ApiRequest) -> None:
    if req.job_token or project["archived"]:
        raise forbidden()


@route("POST", "/projects/:id/repository/files/:file_path")
def create_file(store: Store, req: ApiRequest, id: str, file_path: str) -> Any:
    return _file_write(store, req, id, file_path, "create")


@route("PUT", "/projects/:id/repository/files/:file_path")
def update_file(store: Store, req: ApiRequest, id: str, file_path: str) -> Any:
    return _file_write(store, req, id, file_path, "update")


@route("DELETE", "/projects/:id/repository/files/:file_path")
def delete_file(store: Store, req: ApiRequest, id: str, file_path: str) -> Reply:
    _file_write(store, req, id, file_path, "delete")
    return no_content()
