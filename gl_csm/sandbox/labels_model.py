"""Label lookup and scoped-label rules shared by the label, issue and quick-action code.

- A project sees its own labels plus the labels of every ancestor group
  (doc/user/project/labels.md, "Project labels and group labels").
- Scoped labels ``key::value``: the key is everything before the *last* ``::``,
  and on Premium/Ultimate an issue or merge request holds at most one label per
  key; adding one removes the other (doc/user/project/labels.md, "Scoped labels").
  On Free they are ordinary labels.
- Issue create/update silently creates unknown label names as project labels
  (doc/api/issues.md, ``labels``/``add_labels``).
"""

from __future__ import annotations

import re

from gl_csm.sandbox.editions import is_paid
from gl_csm.sandbox.errors import ApiError
from gl_csm.sandbox.store import Record, Store

DEFAULT_COLOR = "#6699cc"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# CSS colour names GitLab accepts and stores as hex (a small, common subset).
_NAMED = {
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "black": "#000000",
    "white": "#ffffff",
    "gray": "#808080",
    "grey": "#808080",
    "orange": "#ffa500",
    "yellow": "#ffff00",
    "purple": "#800080",
    "pink": "#ffc0cb",
    "brown": "#a52a2a",
}


def scope_key(name: str) -> str | None:
    return name.rsplit("::", 1)[0] if "::" in name else None


def normalise_color(color: str | None) -> str:
    if color is None or color == "":
        return DEFAULT_COLOR
    if _HEX.match(color):
        return color
    if color.lower() in _NAMED:
        return _NAMED[color.lower()]
    raise ApiError(400, {"message": {"color": ["must be a valid color code"]}})


def visible_labels(
    store: Store, project: Record, *, include_ancestors: bool = True
) -> list[Record]:
    """Project labels, then group labels (nearest group first).

    Without ancestors the project's own group still counts: LabelsFinder takes
    ``group_ids_for(project.group)``, the group itself plus its ancestors only when
    ``include_ancestor_groups`` (app/finders/concerns/finder_with_group_hierarchy.rb)."""
    out = [lb for lb in store.labels.values() if lb.get("project_id") == project["id"]]
    groups = store.project_groups(project)
    for group in groups if include_ancestors else groups[:1]:
        out += [lb for lb in store.labels.values() if lb.get("group_id") == group["id"]]
    return out


def delete_label(store: Store, label: Record) -> None:
    """Labels::DestroyService: the label goes, and with it from every issue and MR."""
    del store.labels[label["id"]]
    for project in store.projects.values():
        for _, item in store.iter_issuables(project):
            if label["id"] in item["label_ids"]:
                item["label_ids"] = [i for i in item["label_ids"] if i != label["id"]]


def group_labels(store: Store, group: Record, *, include_ancestors: bool) -> list[Record]:
    chain = store.ancestors(group) if include_ancestors else [group]
    out: list[Record] = []
    for ns in chain:
        out += [lb for lb in store.labels.values() if lb.get("group_id") == ns["id"]]
    return out


def find_visible(store: Store, project: Record, name: str) -> Record | None:
    for lb in visible_labels(store, project):
        if lb["name"] == name:
            return lb
    return None


def create_label(
    store: Store,
    *,
    name: str,
    color: str | None,
    description: str | None,
    priority: int | None,
    project_id: int | None = None,
    group_id: int | None = None,
) -> Record:
    label = {
        "id": store.next_id("label"),
        "name": name,
        "color": normalise_color(color),
        "description": description,
        "priority": priority,
        "project_id": project_id,
        "group_id": group_id,
        "created_at": store.now(),
    }
    store.labels[label["id"]] = label
    return label


def ids_for_names(store: Store, project: Record, names: list[str], *, create: bool) -> list[int]:
    """Resolve names to visible labels; unknown names become project labels if ``create``."""
    ids: list[int] = []
    for name in names:
        label = find_visible(store, project, name)
        if label is None and create:
            label = create_label(
                store,
                name=name,
                color=None,
                description=None,
                priority=None,
                project_id=project["id"],
            )
        if label is not None and label["id"] not in ids:
            ids.append(label["id"])
    return ids


def apply_exclusive(store: Store, current: list[int], added: list[int]) -> list[int]:
    """Add labels in order; on Premium/Ultimate each one replaces a held label of the same
    scope key. On Free scoped labels are ordinary labels: an issue keeps
    ``sentiment::red`` and ``sentiment::green`` both (ee/app/services/ee/
    issuable_base_service.rb ``filter_mutually_exclusive_labels`` returns the ids
    unchanged unless ``feature_available?(:scoped_labels)``, a Premium feature)."""
    exclusive = is_paid(store.edition)
    result = list(current)
    for label_id in added:
        if label_id in result:
            continue
        key = scope_key(store.labels[label_id]["name"])
        if key is not None and exclusive:
            result = [i for i in result if scope_key(store.labels[i]["name"]) != key]
        result.append(label_id)
    return result
