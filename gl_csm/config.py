"""gl-csm.yml + environment -> Settings (SPEC section 8), validated with clear errors.

Every problem names the key (``groups.pre_sales``) and what was expected, and is a
:class:`ConfigError` (exit code 2). The token is read from ``GITLAB_TOKEN`` only and
is kept out of ``repr`` so it can never end up in a log line or a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gl_csm.domain.feeds import FEEDS, LOOKUP_KEYS
from gl_csm.domain.rules import Rules, rules_from_mapping
from gl_csm.domain.taxonomy import Taxonomy
from gl_csm.errors import ConfigError
from gl_csm.registry_cache import default_dir as default_cache_dir
from gl_csm.urls import redact_url

DEFAULT_CONFIG = "gl-csm.yml"
_PATH_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$")
_ROLES = ("csm_manager", "csm_director", "area_sales_manager", "regional_director")


@dataclass(frozen=True)
class Groups:
    """Where collaboration projects live (SPEC 1)."""

    pre_sales: str
    post_sales: str


@dataclass(frozen=True)
class Projects:
    """The internal projects (SPEC 1): never customer-visible."""

    accounts: str
    triage: str
    escalations: str

    def items(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accounts", self.accounts),
            ("triage", self.triage),
            ("escalations", self.escalations),
        )


@dataclass(frozen=True)
class RegionPeople:
    """Who is told for a region (SPEC 5.1); any role may be missing."""

    csm_manager: str | None = None
    csm_director: str | None = None
    area_sales_manager: str | None = None
    regional_director: str | None = None


@dataclass(frozen=True)
class EscalationPeople:
    """The escalation contacts an account escalation mentions (SPEC 5.0, handbook 002:
    "further assistance from Product, Support or Managers+"); either may be missing."""

    product: str | None = None
    support: str | None = None


_ESCALATION_ROLES = ("product", "support")


@dataclass(frozen=True)
class People:
    vp_customer_success: str | None = None
    public_sector_cs_director: str | None = None
    regions: Mapping[str, RegionPeople] = field(default_factory=dict)
    escalations: EscalationPeople = field(default_factory=EscalationPeople)

    def usernames(self) -> tuple[str, ...]:
        names = [self.vp_customer_success, self.public_sector_cs_director]
        names += [self.escalations.product, self.escalations.support]
        for region in self.regions.values():
            names.extend(getattr(region, role) for role in _ROLES)
        return tuple(sorted({n for n in names if n}))


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where and how it runs."""

    config_path: Path | None
    accounts_dir: Path
    gitlab_url: str | None
    groups: Groups | None
    projects: Projects | None
    people: People
    taxonomy: Taxonomy
    rules: Rules
    # repr=False: the token must never be printed, logged or shown in a traceback.
    token: str | None = field(default=None, repr=False)
    #: `crm_import.columns`: CSV column -> registry key (SPEC 2 `accounts import`).
    crm_columns: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CRM_COLUMNS))
    #: `feeds.<usage|support|nps>.columns`: CSV column -> registry key of each data feed
    #: (`accounts import --feed`); a feed not configured reads its default columns.
    feed_columns: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {name: dict(f.default_columns) for name, f in FEEDS.items()}
    )
    #: `gitlab_edition` (SPEC 7.1): what the GitLab tier allows. ``free`` (the default)
    #: is the strictest: one assignee per issue, scoped labels not exclusive.
    gitlab_edition: str = "free"
    #: `ops_project`: the project holding this repository (gl-csm.yml and accounts/),
    #: where registry edits are committed (README "Registry changes"); in CI
    #: CI_PROJECT_PATH wins.
    ops_project: str | None = None
    #: Where registry files already read are remembered (README "Registry cache"):
    #: ``$GL_CSM_CACHE_DIR``, else ``.gl-csm-cache/`` beside the config file; None: no cache.
    cache_dir: Path | None = None

    @property
    def premium(self) -> bool:
        """Premium or Ultimate: several assignees, GitLab's own scoped-label exclusivity."""
        return self.gitlab_edition in ("premium", "ultimate")

    @property
    def where(self) -> str:
        return str(self.config_path) if self.config_path else "(no config file)"

    def require_token(self) -> str:
        """The token, or a clear error: asked only when a GitLab connection is opened."""
        if self.token is None:
            raise ConfigError(
                f"GITLAB_TOKEN is not set: gl-csm needs a GitLab access token (api scope) in "
                f"the GITLAB_TOKEN environment variable to talk to {self.gitlab_url} (tokens "
                f"are never taken from flags or files)"
            )
        return self.token

    def require_layout(self, command: str) -> tuple[Groups, Projects]:
        """Groups and projects, or a clear error: only ``assess`` works without them."""
        if self.groups is None or self.projects is None:
            missing = "groups" if self.groups is None else "projects"
            raise ConfigError(
                f"{self.where}: key '{missing}' is required for '{command}' "
                f"(see SPEC section 8 for its keys)"
            )
        return self.groups, self.projects


def _expect_mapping(value: Any, key: str, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: key '{key}': expected a mapping, got {type(value).__name__}")
    return value


def _expect_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, where: str
) -> None:
    for key in data:
        if key not in allowed:
            full = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(
                f"{where}: unknown key '{full}'; expected one of: {', '.join(allowed)}"
            )


def _expect_path(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not _PATH_RE.match(value.strip("/")):
        raise ConfigError(
            f"{where}: key '{key}': expected a GitLab path like 'group/subgroup', got {value!r}"
        )
    return value.strip("/")


def _expect_username(value: Any, key: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*", value):
        raise ConfigError(f"{where}: key '{key}': expected a GitLab username, got {value!r}")
    return value


def _parse_people(raw: Any, where: str) -> People:
    data = _expect_mapping(raw, "people", where)
    _expect_keys(
        data,
        ("vp_customer_success", "public_sector_cs_director", "regions", "escalations"),
        "people",
        where,
    )
    regions: dict[str, RegionPeople] = {}
    for region, roles in _expect_mapping(data.get("regions"), "people.regions", where).items():
        key = f"people.regions.{region}"
        roles = _expect_mapping(roles, key, where)
        _expect_keys(roles, _ROLES, key, where)
        regions[str(region)] = RegionPeople(
            **{role: _expect_username(roles.get(role), f"{key}.{role}", where) for role in _ROLES}
        )
    contacts = _expect_mapping(data.get("escalations"), "people.escalations", where)
    _expect_keys(contacts, _ESCALATION_ROLES, "people.escalations", where)
    escalations = EscalationPeople(
        **{
            role: _expect_username(contacts.get(role), f"people.escalations.{role}", where)
            for role in _ESCALATION_ROLES
        }
    )
    return People(
        escalations=escalations,
        vp_customer_success=_expect_username(
            data.get("vp_customer_success"), "people.vp_customer_success", where
        ),
        public_sector_cs_director=_expect_username(
            data.get("public_sector_cs_director"), "people.public_sector_cs_director", where
        ),
        regions=regions,
    )


def _parse_section(raw: Any, cls: type, key: str, where: str) -> Any:
    if raw is None:
        return None
    data = _expect_mapping(raw, key, where)
    names = tuple(cls.__dataclass_fields__)
    _expect_keys(data, names, key, where)
    for name in names:
        if name not in data:
            raise ConfigError(f"{where}: key '{key}.{name}' is required")
    return cls(**{name: _expect_path(data[name], f"{key}.{name}", where) for name in names})


#: Registry keys the CRM owns (SPEC 2): `accounts import` may set only these, never a
#: CSM's judgement (sentiment, risk, exception, ...).
CRM_KEYS: tuple[str, ...] = (
    "name", "slug", "segment", "region", "public_sector", "arr", "plan", "deployment",
    "seats.licensed", "customer_since", "renewal_date",
    "team.csm", "team.sa", "team.ae", "team.pse", "parent",
)  # fmt: skip
#: The mapping used when `crm_import.columns` is not set (README "CRM import").
DEFAULT_CRM_COLUMNS: dict[str, str] = {
    "Account Name": "name", "Account Slug": "slug", "Segment": "segment",
    "Region": "region", "Public Sector": "public_sector", "ARR": "arr", "Plan": "plan",
    "Deployment": "deployment", "Licensed Seats": "seats.licensed",
    "Customer Since": "customer_since", "Renewal Date": "renewal_date",
    "CSM": "team.csm", "SA": "team.sa", "AE": "team.ae", "PSE": "team.pse",
    "Parent Account": "parent",
}  # fmt: skip


def _parse_columns(
    raw: Any, prefix: str, allowed: tuple[str, ...], owner: str, where: str
) -> dict[str, str]:
    """`{CSV column: registry key}` of one import: keys from `allowed`, each at most once,
    with a column for `name` or `slug` (how rows find their account)."""
    columns = _expect_mapping(raw, prefix, where)
    out: dict[str, str] = {}
    for column, target in columns.items():
        key = f"{prefix}.{column}"
        if not isinstance(column, str) or not column.strip():
            raise ConfigError(f"{where}: key '{key}': expected a CSV column name")
        if target not in allowed:
            raise ConfigError(
                f"{where}: key '{key}': expected a registry key {owner} "
                f"({', '.join(allowed)}), got {target!r}"
            )
        if target in out.values():
            raise ConfigError(f"{where}: key '{key}': registry key {target!r} is mapped twice")
        out[column] = target
    if not {"name", "slug"} & set(out.values()):
        raise ConfigError(
            f"{where}: key '{prefix}': expected a column for 'name' or 'slug' "
            f"(how rows find their account)"
        )
    return out


def _parse_crm_import(raw: Any, where: str) -> dict[str, str]:
    """`crm_import: {columns: {CSV column: registry key}}`; each key at most once."""
    data = _expect_mapping(raw, "crm_import", where)
    _expect_keys(data, ("columns",), "crm_import", where)
    if data.get("columns") is None:
        return dict(DEFAULT_CRM_COLUMNS)
    return _parse_columns(data["columns"], "crm_import.columns", CRM_KEYS, "the CRM owns", where)


def _parse_feeds(raw: Any, where: str) -> dict[str, dict[str, str]]:
    """`feeds: {usage|support|nps: {columns: {CSV column: registry key}}}`."""
    data = _expect_mapping(raw, "feeds", where)
    _expect_keys(data, tuple(FEEDS), "feeds", where)
    out: dict[str, dict[str, str]] = {}
    for name, feed in FEEDS.items():
        section = _expect_mapping(data.get(name), f"feeds.{name}", where)
        _expect_keys(section, ("columns",), f"feeds.{name}", where)
        if section.get("columns") is None:
            out[name] = dict(feed.default_columns)
            continue
        out[name] = _parse_columns(
            section["columns"],
            f"feeds.{name}.columns",
            LOOKUP_KEYS + feed.keys,
            f"the {name} feed owns",
            where,
        )
    return out


_TOP_KEYS = (
    "gitlab_url",
    "accounts",
    "groups",
    "projects",
    "fiscal_year_start_month",
    "people",
    "labels",
    "rules",
    "crm_import",
    "feeds",
    "gitlab_edition",
    "ops_project",
)
EDITIONS = ("free", "premium", "ultimate")


def load_settings(
    config_path: Path | None,
    *,
    explicit: bool = False,
    gitlab_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the config file (if any) and the environment.

    ``explicit`` says the user named the file with ``--config``: then a missing file is
    an error. Without it, a missing default ``gl-csm.yml`` means "no config": the
    registry is ``accounts/`` of the current directory (SPEC 7, enough for ``assess``).
    """
    env = os.environ if environ is None else environ
    raw: Mapping[str, Any] = {}
    base = Path.cwd()
    where = "(no config file)"
    found: Path | None = None
    if config_path is not None and config_path.is_file():
        found = config_path
        where = str(config_path)
        base = config_path.resolve().parent
        try:
            loaded = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(
                f"{where}{at}: not valid YAML: {getattr(exc, 'problem', exc)}"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the config file: {exc.strerror}") from None
        raw = _expect_mapping(loaded, "(top level)", where)
    elif explicit and config_path is not None:
        raise ConfigError(f"config file {config_path} not found (given with --config)")

    _expect_keys(raw, _TOP_KEYS, "", where)

    accounts = raw.get("accounts", "accounts/")
    if not isinstance(accounts, str) or not accounts:
        raise ConfigError(f"{where}: key 'accounts': expected a directory path, got {accounts!r}")

    fy = raw.get("fiscal_year_start_month", None)
    if fy is not None and (isinstance(fy, bool) or not isinstance(fy, int) or not 1 <= fy <= 12):
        raise ConfigError(
            f"{where}: key 'fiscal_year_start_month': expected a month number 1..12, got {fy!r}"
        )

    rules_raw = dict(_expect_mapping(raw.get("rules"), "rules", where))
    if fy is not None:
        rules_raw["fiscal_year_start_month"] = fy
    try:
        rules = rules_from_mapping(rules_raw)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None

    labels = _expect_mapping(raw.get("labels"), "labels", where)
    try:
        taxonomy = Taxonomy(renames=dict(labels))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None

    url = gitlab_url or env.get("GITLAB_URL") or env.get("CI_SERVER_URL") or raw.get("gitlab_url")
    if url is not None:
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise ConfigError(
                f"GitLab URL: expected http(s)://host[/path] (from --gitlab-url, GITLAB_URL, "
                f"CI_SERVER_URL or key 'gitlab_url'), got {redact_url(str(url))!r}"
            )
        url = url.rstrip("/")
    # Checked when a GitLab connection is opened (Settings.require_token), not here:
    # `assess`, `templates check` and `accounts import` need no GitLab (SPEC 7), and in
    # CI a URL (CI_SERVER_URL) is always known.
    token = env.get("GITLAB_TOKEN") or None

    edition = raw.get("gitlab_edition", "free")
    if edition not in EDITIONS:
        raise ConfigError(
            f"{where}: key 'gitlab_edition': expected one of {', '.join(EDITIONS)}, got {edition!r}"
        )

    return Settings(
        config_path=found,
        accounts_dir=(base / accounts).resolve()
        if not Path(accounts).is_absolute()
        else Path(accounts),
        gitlab_url=url,
        groups=_parse_section(raw.get("groups"), Groups, "groups", where),
        projects=_parse_section(raw.get("projects"), Projects, "projects", where),
        people=_parse_people(raw.get("people"), where),
        taxonomy=taxonomy,
        rules=rules,
        token=token,
        crm_columns=_parse_crm_import(raw.get("crm_import"), where),
        feed_columns=_parse_feeds(raw.get("feeds"), where),
        gitlab_edition=edition,
        cache_dir=default_cache_dir(found, env),
        ops_project=(
            _expect_path(raw["ops_project"], "ops_project", where)
            if raw.get("ops_project") is not None
            else None
        ),
    )
