"""Project and group labels (doc/api/labels.md, doc/api/group_labels.md).

Creating a label whose name the project or group can already see (including
a label inherited from an ancestor group) answers 409 ``Label already exists``
(lib/api/helpers/label_helpers.rb). Listings include ancestor group labels by
default and mark project labels with ``is_project_label``.

``:label_id`` (and the deprecated ``label_id``/``name`` body parameters) is looked up
as an id first, then as a title (``find_label``: ``labels.find_by_id(id_or_title) ||
labels.find_by_title(id_or_title)``); updates, deletes and subscriptions look among the
parent's own labels and, for a project, its group's (``include_ancestor_groups:
false``). spec/requests/api/labels_spec.rb and group_labels_spec.rb.
"""

from __future__ import annotations

from typing import Any

from gl_csm.sandbox import entities
from gl_csm.sandbox.errors import (
    ApiError,
    at_least_one_missing,
    bad_request,
    conflict,
    exactly_one_missing,
    forbidden,
    missing,
    not_found,
)
from gl_csm.sandbox.labels_model import (
    create_label,
    delete_label,
    group_labels,
    normalise_color,
    visible_labels,
)
from gl_csm.sandbox.pagination import paginate
from gl_csm.sandbox.request import ApiRequest, Reply, no_content, not_modified
from gl_csm.sandbox.router import route
from gl_csm.sandbox.store import Record, Store

_UPDATE_KEYS = ("new_name", "color", "description", "priority")


def _check_title(name: str) -> None:
    if "," in name or not name.strip():
        raise bad_request({"title": ["is invalid"]})


def _render(
    store: Store, req: ApiRequest, labels: list[Record], project: Record | None = None
) -> Reply:
    search = req.str("search")
    if search:
        labels = [lb for lb in labels if search.lower() in lb["name"].lower()]
    labels = sorted(labels, key=lambda lb: (lb["name"].lower(), lb["id"]))
    counts = bool(req.bool("with_counts", False))
    return paginate(
        req,
        [
            entities.label(
                store,
                lb,
                req.base_url,
                for_project=project,
                with_counts=counts,
                user_id=req.user_id,
            )
            for lb in labels
        ],
    )


def _find(labels: list[Record], ref: str) -> Record:
    """``find_label``: by id first, then by title (a label titled ``"7"`` is found by
    title only when no visible label has id 7)."""
    if ref.isdigit():
        for lb in labels:
            if lb["id"] == int(ref):
                return lb
    for lb in labels:
        if lb["name"] == ref:
            return lb
    raise not_found("Label")


def _ref_param(req: ApiRequest) -> str:
    """The deprecated routes' ``label_id``/``name``: exactly one (Grape
    ``exactly_one_of``; both is ``mutually exclusive``)."""
    if req.has("label_id") and req.has("name"):
        raise ApiError(400, {"error": "label_id, name are mutually exclusive"})
    ref = req.str("label_id") or req.str("name")
    if not ref:
        raise exactly_one_missing("label_id", "name")
    return ref


def _create(store: Store, req: ApiRequest, visible: list[Record], **owner: int) -> Record:
    if req.job_token:
        raise forbidden()
    absent = [n for n in ("name", "color") if not req.has(n)]
    if absent:
        raise missing(*absent)
    name = req.required_str("name")
    _check_title(name)
    if any(lb["name"] == name for lb in visible):
        raise conflict("Label already exists")
    return create_label(
        store,
        name=name,
        color=normalise_color(req.str("color")),
        description=req.str("description"),
        priority=req.int("priority"),
        **owner,
    )


def _update(store: Store, req: ApiRequest, label: Record, siblings: list[Record]) -> Record:
    if not any(req.has(k) for k in _UPDATE_KEYS):
        raise at_least_one_missing(*_UPDATE_KEYS)
    if req.has("new_name"):
        new_name = req.required_str("new_name")
        _check_title(new_name)
        if any(lb["name"] == new_name and lb["id"] != label["id"] for lb in siblings):
            raise bad_request({"title": ["has already been taken"]})
        label["name"] = new_name
    if req.has("color"):
        label["color"] = normalise_color(req.str("color"))
    if req.has("description"):
        label["description"] = req.str("description")
    if req.has("priority"):
        label["priority"] = req.int("priority")
    return label


# -- project labels -----------------------------------------------------------


@route("GET", "/projects/:id/labels")
def list_project_labels(store: Store, req: ApiRequest, id: str) -> Reply:
    project = store.project(id)
    include = bool(req.bool("include_ancestor_groups", True))
    return _render(store, req, visible_labels(store, project, include_ancestors=include), project)


@route("GET", "/projects/:id/labels/:label")
def get_project_label(store: Store, req: ApiRequest, id: str, label: str) -> Any:
    project = store.project(id)
    include = bool(req.bool("include_ancestor_groups", True))
    found = _find(visible_labels(store, project, include_ancestors=include), label)
    return entities.label(store, found, req.base_url, for_project=project, user_id=req.user_id)


@route("POST", "/projects/:id/labels")
def post_project_label(store: Store, req: ApiRequest, id: str) -> Any:
    project = store.project(id)
    label = _create(store, req, visible_labels(store, project), project_id=project["id"])
    return entities.label(store, label, req.base_url, for_project=project, user_id=req.user_id)


def _project_label(store: Store, project: Record, ref: str) -> Record:
    """``find_label(parent, id_or_title, include_ancestor_groups: false)``."""
    return _find(visible_labels(store, project, include_ancestors=False), ref)


def _put_project_label(store: Store, req: ApiRequest, project: Record, ref: str) -> Any:
    label = _project_label(store, project, ref)
    if label.get("group_id") is not None:
        # A group label's priority is the project's own (LabelPriority); its other
        # fields are the group's (spec/requests/api/labels_spec.rb "with group label",
        # ``it 'allows updating of group label priority'``).
        if not any(req.has(k) for k in _UPDATE_KEYS):
            raise at_least_one_missing(*_UPDATE_KEYS)
        if req.has("priority"):
            priorities = label.setdefault("priorities", {})
            value = req.int("priority")
            if value is None:
                priorities.pop(str(project["id"]), None)
            else:
                priorities[str(project["id"])] = value
        if any(req.has(k) for k in ("new_name", "color", "description")):
            group = store.namespaces[label["group_id"]]
            _update(store, req, label, group_labels(store, group, include_ancestors=False))
    else:
        own = [lb for lb in store.labels.values() if lb.get("project_id") == project["id"]]
        _update(store, req, label, own)
    return entities.label(store, label, req.base_url, for_project=project, user_id=req.user_id)


@route("PUT", "/projects/:id/labels/:label")
def put_project_label(store: Store, req: ApiRequest, id: str, label: str) -> Any:
    return _put_project_label(store, req, store.project(id), label)


@route("PUT", "/projects/:id/labels")
def put_project_label_by_param(store: Store, req: ApiRequest, id: str) -> Any:
    """Deprecated form with ``name``/``label_id`` in the body; python-gitlab's save() uses it."""
    project = store.project(id)
    return _put_project_label(store, req, project, _ref_param(req))


@route("DELETE", "/projects/:id/labels/:label")
def delete_project_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    """204 (spec/requests/api/labels_spec.rb ``it 'returns 204 for existing label (rest
    route)'``); the label leaves every issue and merge request."""
    delete_label(store, _project_label(store, store.project(id), label))
    return no_content()


@route("DELETE", "/projects/:id/labels")
def delete_project_label_by_param(store: Store, req: ApiRequest, id: str) -> Reply:
    """``it 'returns 204 for existing label (deprecated route)'``; neither or both of
    ``label_id``/``name``: 400."""
    project = store.project(id)
    delete_label(store, _project_label(store, project, _ref_param(req)))
    return no_content()


def _subscription(
    store: Store, req: ApiRequest, label: Record, project: Record | None, on: bool
) -> Reply:
    """``POST .../labels/:label_id/subscribe|unsubscribe``: 201 with the label, 304 when
    nothing changes (lib/api/subscriptions.rb; labels_spec.rb ``it "returns 304"``)."""
    subscribers: list[int] = label.setdefault("subscribers", [])
    if (req.user_id in subscribers) == on:
        return not_modified()
    if on:
        subscribers.append(req.user_id)
    else:
        subscribers.remove(req.user_id)
    body = entities.label(store, label, req.base_url, for_project=project, user_id=req.user_id)
    return Reply(201, body)


@route("POST", "/projects/:id/labels/:label/subscribe")
def subscribe_project_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    project = store.project(id)
    found = _find(visible_labels(store, project), label)
    return _subscription(store, req, found, project, True)


@route("POST", "/projects/:id/labels/:label/unsubscribe")
def unsubscribe_project_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    project = store.project(id)
    found = _find(visible_labels(store, project), label)
    return _subscription(store, req, found, project, False)


# -- group labels ---------------------------------------------------------------


def _group_visible(store: Store, req: ApiRequest, group: Record) -> list[Record]:
    labels = group_labels(
        store, group, include_ancestors=bool(req.bool("include_ancestor_groups", True))
    )
    if req.bool("include_descendant_groups", False):
        for ns in store.descendants(group)[1:]:
            labels += [lb for lb in store.labels.values() if lb.get("group_id") == ns["id"]]
    return labels


@route("GET", "/groups/:id/labels")
def list_group_labels(store: Store, req: ApiRequest, id: str) -> Reply:
    return _render(store, req, _group_visible(store, req, store.group(id)))


@route("GET", "/groups/:id/labels/:label")
def get_group_label(store: Store, req: ApiRequest, id: str, label: str) -> Any:
    found = _find(_group_visible(store, req, store.group(id)), label)
    return entities.label(store, found, req.base_url, user_id=req.user_id)


@route("POST", "/groups/:id/labels")
def post_group_label(store: Store, req: ApiRequest, id: str) -> Any:
    group = store.group(id)
    label = _create(
        store, req, group_labels(store, group, include_ancestors=True), group_id=group["id"]
    )
    return entities.label(store, label, req.base_url, user_id=req.user_id)


def _put_group_label(store: Store, req: ApiRequest, group: Record, ref: str) -> Any:
    own = group_labels(store, group, include_ancestors=False)
    label = _update(store, req, _find(own, ref), own)
    return entities.label(store, label, req.base_url, user_id=req.user_id)


@route("PUT", "/groups/:id/labels/:label")
def put_group_label(store: Store, req: ApiRequest, id: str, label: str) -> Any:
    return _put_group_label(store, req, store.group(id), label)


@route("PUT", "/groups/:id/labels")
def put_group_label_by_param(store: Store, req: ApiRequest, id: str) -> Any:
    group = store.group(id)
    return _put_group_label(store, req, group, _ref_param(req))


@route("DELETE", "/groups/:id/labels/:label")
def delete_group_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    """204 (spec/requests/api/group_labels_spec.rb ``it 'returns 204 for existing
    label'``): only the group's own labels."""
    group = store.group(id)
    delete_label(store, _find(group_labels(store, group, include_ancestors=False), label))
    return no_content()


@route("DELETE", "/groups/:id/labels")
def delete_group_label_by_param(store: Store, req: ApiRequest, id: str) -> Reply:
    group = store.group(id)
    ref = _ref_param(req)
    delete_label(store, _find(group_labels(store, group, include_ancestors=False), ref))
    return no_content()


@route("POST", "/groups/:id/labels/:label/subscribe")
def subscribe_group_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    found = _find(_group_visible(store, req, store.group(id)), label)
    return _subscription(store, req, found, None, True)


@route("POST", "/groups/:id/labels/:label/unsubscribe")
def unsubscribe_group_label(store: Store, req: ApiRequest, id: str, label: str) -> Reply:
    found = _find(_group_visible(store, req, store.group(id)), label)
    return _subscription(store, req, found, None, False)
