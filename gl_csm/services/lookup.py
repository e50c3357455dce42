"""How the bot finds its own issues and projects without GitLab's search (SPEC 7.1).

GitLab's issue search is PostgreSQL full-text search (``app/finders/issuable_finder.rb``,
``app/models/concerns/pg_full_text_searchable.rb``): a hidden ``<!-- gl-csm:... -->``
marker is never indexed, and words are stemmed and split. A lookup that trusts a search
answer finds nothing on a real server and creates a duplicate. So every lookup here is
a ladder, each step verified by the exact marker, and only the last step may conclude
"absent":

1. **hints** the bot recorded: the iid of a webhook's issue, the iids the tracking card
   records in its hidden data (``issues``: every bot issue of the account by internal
   project), read in one ``iids[]`` listing per project;
2. **narrowed listings**: the tracking issue carries the account's ``segment::`` label
   and is assigned to its CSM (a title search narrows the summary issue; never trusted
   alone);
3. **a full listing** of the project, 100 a page, read until the marker shows up.

Single-account commands so cost a handful of reads while the hints hold, and fall back
to reading the project (``ceil(issues / 100)`` pages) only to prove an issue absent
before creating it, or when a person removed what the hints rely on.

Collaboration projects are found the same way: at the registry's ``project:`` (GitLab
follows the redirect of a transferred or renamed project, ``Project.find_by_full_path``
with ``follow_redirects``), else by the account's path in both collaboration groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gl_csm import markers
from gl_csm.config import Settings
from gl_csm.domain.account import Account
from gl_csm.gitlab.gateway import Gateway
from gl_csm.services.card_data import card_value

TRACKING = "tracking"
#: Card hidden-data key: bot issue iids of the account by internal project role.
ISSUES_KEY = "issues"
ROLES = ("accounts", "triage", "escalations")


# ---------------------------------------------------------------- the tracking issue


def tracking_narrowing(settings: Settings, account: Account) -> list[dict[str, Any]]:
    """A listing that holds the account's tracking issue while people leave it as the
    bot made it: its segment label (a bot scope) and its CSM assignee (one CSM's book of
    a segment: about a page). Database filters, not GitLab's full-text search."""
    segment = settings.taxonomy.name(f"segment::{account.segment}")
    if account.team.csm:
        return [{"labels": segment, "assignee_username": account.team.csm}]
    return [{"labels": segment}]


def find_tracking(
    gateway: Gateway, settings: Settings, account: Account, *, iid: int | None = None
) -> dict | None:
    """The account's tracking issue (see module docstring); ``iid`` a hint (a webhook's)."""
    _, projects = settings.require_layout("tracking issue")
    token = markers.token(TRACKING, account.slug)
    if iid is not None:
        issue = gateway.issue(projects.accounts, iid)
        if issue is not None and markers.own_key(issue, TRACKING) == account.slug:
            return issue
    return gateway.find_issue_by_marker(
        projects.accounts, token, narrow=tracking_narrowing(settings, account)
    )


# ---------------------------------------------------------------- iids the card records


def recorded_iids(tracking: Mapping[str, Any] | None) -> dict[str, list[int]]:
    """The iids of the account's bot issues its tracking card records, by project role."""
    return iids_of(card_value((tracking or {}).get("description"), ISSUES_KEY))


def iids_of(raw: object) -> dict[str, list[int]]:
    """The iids by project role of a card's recorded ``ISSUES_KEY`` value (as read back
    from the card's hidden data, or as about to be written in it)."""
    out: dict[str, list[int]] = {role: [] for role in ROLES}
    if not isinstance(raw, Mapping):
        return out
    for role in ROLES:
        values = raw.get(role)
        # A tuple is a list once written in the card (JSON).
        if isinstance(values, list | tuple):
            out[role] = sorted({v for v in values if isinstance(v, int) and v > 0})
    return out


def merge_iids(*parts: Mapping[str, list[int]]) -> dict[str, list[int]]:
    """Union of recorded iids, sorted, empty roles left out (a canonical card)."""
    out: dict[str, set[int]] = {}
    for part in parts:
        for role, values in part.items():
            out.setdefault(role, set()).update(int(v) for v in values)
    return {role: sorted(values) for role, values in sorted(out.items()) if values}


class MarkerIndex(Mapping[str, dict]):
    """KEY -> issue of one marker kind, from the issues the hints found; a key they do
    not hold is looked up in the full listing (read once, on the first miss), so a miss
    is authoritative and never leads to a duplicate. Iterating gives what is known."""

    def __init__(self, kind: str, known: list[dict], load_all: Callable[[], list[dict]]) -> None:
        self.kind = kind
        self._known = markers.index_by_marker(known, kind)
        self._load_all = load_all
        self.loaded = False

    def _load(self) -> None:
        if not self.loaded:
            self.loaded = True
            full = markers.index_by_marker(self._load_all(), self.kind)
            # The oldest issue wins on both sides (index_by_marker's rule).
            for key, issue in full.items():
                mine = self._known.get(key)
                if mine is None or int(issue["id"]) < int(mine["id"]):
                    self._known[key] = issue

    def known(self, key: str) -> dict | None:
        """What the hints (or an earlier full read) hold for ``key``, reading nothing."""
        return self._known.get(key)

    def __getitem__(self, key: str) -> dict:
        if key not in self._known:
            self._load()
        return self._known[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._known))

    def __len__(self) -> int:
        return len(self._known)


def get_known(index: Mapping[str, dict], key: str, *, authoritative: bool) -> dict | None:
    """``index.get(key)``; for an index that reads on a miss (a :class:`MarkerIndex`, the
    triage run's ``ProvenIndex``) not ``authoritative`` (nothing would be created on a
    miss) only what it holds, without the read."""
    known = getattr(index, "known", None)
    if known is not None and not authoritative:
        return known(key)
    return index.get(key)


def hinted_index(
    gateway: Gateway, project: str, kind: str, iids: list[int], *, state: str
) -> MarkerIndex:
    """A :class:`MarkerIndex` of ``project`` from recorded ``iids`` (one read when any)."""
    return hinted_indexes(gateway, project, [kind], iids, state=state)[kind]


def hinted_indexes(
    gateway: Gateway, project: str, kinds: list[str], iids: list[int], *, state: str
) -> dict[str, MarkerIndex]:
    """One :class:`MarkerIndex` per marker kind of ``project``, sharing their reads: the
    recorded ``iids`` once, and the full listing at most once, on the first miss."""
    known = gateway.issues_by_iid(project, iids, state=state) if iids else []
    listing: list[list[dict]] = []

    def load_all() -> list[dict]:
        if not listing:
            listing.append(gateway.issues(project, state=state))
        return listing[0]

    return {kind: MarkerIndex(kind, known, load_all) for kind in kinds}


def find_recorded(
    gateway: Gateway,
    project: str,
    tracking: Mapping[str, Any] | None,
    role: str,
    kind: str,
    key: str,
    *,
    narrow: list[dict[str, Any]] | None = None,
) -> dict | None:
    """One bot issue (kind, key): first among the iids the card records, else by the
    marker over the whole project (see :meth:`Gateway.find_issue_by_marker`)."""
    iids = recorded_iids(tracking).get(role) or []
    if iids:
        found = markers.index_by_marker(gateway.issues_by_iid(project, iids), kind).get(key)
        if found is not None:
            return found
    return gateway.find_issue_by_marker(project, markers.token(kind, key), narrow=narrow or ())


# ---------------------------------------------------------------- collaboration projects


def find_project(
    gateway: Gateway, settings: Settings, account: Account, command: str = "collaboration"
) -> dict | None:
    """The account's collaboration project, wherever it moved (see module docstring).
    Only a project in a collaboration group counts, before and after GitLab's redirect
    (services/guards.require_collaboration_path: never an internal project)."""
    from gl_csm.services.guards import require_collaboration_path

    groups, _ = settings.require_layout(command)
    tried: set[str] = set()

    def checked(found: dict) -> dict:
        require_collaboration_path(settings, account.slug, found["path_with_namespace"], command)
        return found

    if account.project:
        path = require_collaboration_path(settings, account.slug, account.project, command)
        tried.add(path.lower())
        found = gateway.project(path)
        if found is not None:
            return checked(found)
    names = [account.slug]
    if account.project:
        names.insert(0, account.project.strip("/").rpartition("/")[2])
    for group in (groups.pre_sales, groups.post_sales):
        for name in dict.fromkeys(names):
            path = f"{group}/{name}"
            if path.lower() in tried:
                continue
            tried.add(path.lower())
            found = gateway.project(path)
            if found is not None:
                return checked(found)
    return None


def web_url_of(reference: Mapping[str, Any], path: str) -> str:
    """The web URL GitLab gives ``path``, made from a project GitLab returned: its
    ``web_url`` with its own path replaced (one source for every link the bot writes,
    whatever URL the bot reaches GitLab by: a proxy, an internal name, CI_SERVER_URL)."""
    url = str(reference["web_url"]).rstrip("/")
    own = str(reference["path_with_namespace"])
    if url.endswith(own):
        base = url[: -len(own)].rstrip("/")
    else:
        base = url.rsplit("/", own.count("/") + 1)[0]
    return f"{base}/{path}"
