"""`gl-csm doctor`: a read-only preflight against the configured GitLab (SPEC 5 Doctor).

One :class:`Check` per line: ok or fail, what was found, and the fix. It only reads
(no plan, no write), so it is safe to run anywhere, any time; the CLI exits 0 when
every check holds, 2 otherwise. When GitLab cannot be reached or refuses the token,
the checks that need it are reported as not run (fail), with the first failure's fix.

The edition: ``/metadata`` tells an Enterprise from a Community Edition (CE has no paid
tier), and ``/license`` the paid tier, but only to an administrator
(doc/api/license.md). Without admin rights the configured ``gitlab_edition`` cannot be
verified: reported ok when it is ``free`` (the bot then uses nothing paid), and ok
"not verified" for ``premium``/``ultimate`` on an EE instance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from gitlab.const import AccessLevel

from gl_csm.config import Settings
from gl_csm.errors import GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.runtime import registry_usernames

#: Below this many days left the token check fails: rotate before a scheduled run breaks.
EXPIRY_WARNING_DAYS = 7
#: Legacy license plan names (GitLab.com's old tiers) and what they are now.
_PLANS = {"starter": "premium", "bronze": "premium", "silver": "premium", "gold": "ultimate"}
# doc/api/members.md "Roles" (python-gitlab's AccessLevel), as GitLab's UI names them.
OWNER, MAINTAINER = AccessLevel.OWNER, AccessLevel.MAINTAINER
_LEVELS = {
    level: level.name.title()
    for level in (
        AccessLevel.OWNER,
        AccessLevel.MAINTAINER,
        AccessLevel.DEVELOPER,
        AccessLevel.REPORTER,
        AccessLevel.GUEST,
    )
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def to_text(self) -> str:
        fix = f" -> fix: {self.fix}" if not self.ok and self.fix else ""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}{fix}"

    def to_json(self) -> dict[str, object]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(
                {"ok": self.ok, "checks": [c.to_json() for c in self.checks]}, indent=2
            )
        failed = sum(not c.ok for c in self.checks)
        tail = "all checks passed" if self.ok else f"{failed} check(s) failed"
        return "\n".join([*(c.to_text() for c in self.checks), tail])


def _guard(name: str, fix: str, fn: Callable[[], Check]) -> Check:
    """A check whose read failed (403, 5xx...) is a failed check, not a crash."""
    try:
        return fn()
    except GlCsmError as exc:
        return Check(name, False, str(exc), fix)


def _level(level: int | None) -> str:
    return _LEVELS.get(level or 0, f"access level {level}") if level else "no access"


#: CI/CD variable that opts in to publishing the dashboard on Pages (ci/pages.yml).
PAGES_ENV = "GL_CSM_PAGES"


def dashboard_project(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """The project whose job artifacts and Pages carry the dashboard: the CI job's own
    (``CI_PROJECT_PATH``, doc/ci/variables/predefined_variables.md), else ``ops_project``."""
    return environ.get("CI_PROJECT_PATH") or settings.ops_project


def dashboard_checks(
    gateway: Gateway, settings: Settings, environ: Mapping[str, str]
) -> list[Check]:
    """What must hold before the dashboard and the shard results (ARR, health) are kept
    as job artifacts or published on Pages: the project is private (its members only),
    and, when ``GL_CSM_PAGES`` asks for Pages (or an ``ops_project`` is configured), its
    Pages are for members only. A project
    that cannot be read is not provably restricted: fail."""
    path = dashboard_project(settings, environ)
    if not path:
        return []
    checks = [_artifacts(gateway, path)]
    if environ.get(PAGES_ENV) or settings.ops_project:
        checks.append(_pages(gateway, path))
    return checks


def run_dashboard_doctor(
    gateway: Gateway, settings: Settings, environ: Mapping[str, str] | None = None
) -> Report:
    """`gl-csm doctor --dashboard`: only the checks that guard the dashboard (ci/triage.yml
    and ci/pages.yml run it before keeping or publishing it); a run outside CI with no
    ``ops_project`` has no project to check, which is a failure too."""
    env = os.environ if environ is None else environ
    checks = dashboard_checks(gateway, settings, env)
    if not checks:
        checks = [
            Check(
                "dashboard artifacts",
                False,
                "no project to check: CI_PROJECT_PATH is not set (not in a CI job) and "
                "ops_project is not configured",
                f"set ops_project in {settings.where}, or run it in the CI job",
            )
        ]
    return Report(tuple(checks))


def run_doctor(
    gateway: Gateway, settings: Settings, today: date, environ: Mapping[str, str] | None = None
) -> Report:
    checks: list[Check] = []
    url = gateway.url
    token_fix = (
        "set GITLAB_TOKEN to a valid, unexpired access token with the api scope "
        "(a project, group or service-account token; CI_JOB_TOKEN is not enough)"
    )

    # 1. Really GitLab, reachable.
    try:
        answer = gateway.version()
    except GlCsmError as exc:
        text = str(exc)
        if "rejected the token" in text:  # 401: GitLab's API answered, the token is bad
            checks.append(Check("gitlab", True, f"{url} answers as GitLab's API (401)"))
            checks.append(Check("token", False, text, token_fix))
        else:
            checks.append(
                Check(
                    "gitlab",
                    False,
                    text,
                    "check the URL (--gitlab-url, GITLAB_URL, CI_SERVER_URL or gitlab_url) "
                    "and that this machine can reach it",
                )
            )
        return Report(tuple(checks) + _not_run(settings, checks[-1].name))
    if not isinstance(answer, dict) or "version" not in answer:
        checks.append(
            Check(
                "gitlab",
                False,
                f"{url}/api/v4/version did not answer GitLab's version JSON",
                "use the GitLab instance's root URL (e.g. https://gitlab.example.com), "
                "not a page or proxy in front of it",
            )
        )
        return Report(tuple(checks) + _not_run(settings, "gitlab"))
    checks.append(Check("gitlab", True, f"GitLab {answer['version']} at {url}"))

    # 2. Token valid, its user, scopes and expiry.
    try:
        user = gateway.current_user()
    except GlCsmError as exc:
        checks.append(Check("token", False, str(exc), token_fix))
        return Report(tuple(checks) + _not_run(settings, "token"))
    admin = bool(user.get("is_admin"))
    who = f"@{user['username']}" + (" (administrator)" if admin else "")
    checks.append(Check("token", True, f"valid, user {who}"))
    checks.extend(_token_checks(gateway, today))

    # 3. Access on the collaboration groups and the internal projects.
    if settings.groups is not None:
        for key, path in (
            ("groups.pre_sales", settings.groups.pre_sales),
            ("groups.post_sales", settings.groups.post_sales),
        ):
            checks.append(_access(gateway, "groups", key, path, user, OWNER))
    if settings.projects is not None:
        for role, path in settings.projects.items():
            key = f"projects.{role}"
            checks.append(_access(gateway, "projects", key, path, user, MAINTAINER))
            checks.append(_visibility(gateway, key, path))
    else:
        checks.append(
            Check(
                "layout",
                False,
                f"{settings.where}: no 'groups'/'projects' keys",
                "add them to gl-csm.yml (README 'Configuration')",
            )
        )

    # The dashboard's project: the CI job's (CI_PROJECT_PATH) or ops_project, whenever
    # either is known (not only with ops_project: ci/pages.yml runs in the CI project).
    checks.extend(dashboard_checks(gateway, settings, os.environ if environ is None else environ))
    checks.append(_guard("taxonomy", "run `gl-csm setup`", lambda: _taxonomy(gateway, settings)))
    checks.append(
        _guard(
            "users",
            "fix the usernames in the registry/config",
            lambda: _users(gateway, settings),
        )
    )
    checks.append(_edition(gateway, settings, admin))
    return Report(tuple(checks))


def _not_run(settings: Settings, after: str) -> tuple[Check, ...]:
    names = ["token scopes", "token expiry", "access", "taxonomy", "users", "edition"]
    if after == "gitlab":
        names.insert(0, "token")
    return tuple(
        Check(n, False, f"not checked ({after} failed)", f"fix '{after}' first") for n in names
    )


def _token_checks(gateway: Gateway, today: date) -> list[Check]:
    name_fix = (
        "GitLab < 15.5 or not a personal/project/group access token: check by hand that "
        "the token has the api scope and an expiry date far enough away"
    )
    try:
        token = gateway.token_self()
    except GlCsmError as exc:
        return [Check("token scopes", False, str(exc), name_fix)]
    if token is None:
        return [Check("token scopes", False, "GitLab does not describe this token", name_fix)]
    scopes = sorted(token.get("scopes") or [])
    checks = [
        Check("token scopes", True, f"{', '.join(scopes)}")
        if "api" in scopes
        else Check(
            "token scopes",
            False,
            f"{', '.join(scopes) or 'none'}: the bot writes issues, notes, labels and projects",
            "create a token with the api scope and put it in GITLAB_TOKEN",
        )
    ]
    expires = token.get("expires_at")
    if not expires:
        checks.append(Check("token expiry", True, "never expires"))
        return checks
    left = (date.fromisoformat(str(expires)[:10]) - today).days
    rotate = (
        "rotate it (POST /personal_access_tokens/self/rotate, or the token's page) and "
        "update the GITLAB_TOKEN CI/CD variable"
    )
    if left < 0:
        checks.append(Check("token expiry", False, f"expired on {expires}", rotate))
    elif left < EXPIRY_WARNING_DAYS:
        checks.append(
            Check("token expiry", False, f"expires on {expires}, in {left} day(s)", rotate)
        )
    else:
        checks.append(Check("token expiry", True, f"expires on {expires}, in {left} days"))
    return checks


def _access(gateway: Gateway, kind: str, key: str, path: str, user: dict, need: int) -> Check:
    name = f"access {key}"
    fix = f"give @{user['username']} the {_LEVELS[need]} role on {path}" + (
        " (needed to transfer projects between the groups)" if kind == "groups" else ""
    )

    def check() -> Check:
        found = gateway.group(path) if kind == "groups" else gateway.project(path)
        if found is None:
            what = "group" if kind == "groups" else "project"
            return Check(name, False, f"{what} {path} not found", f"create {path} or fix '{key}'")
        now = str(found.get("path_with_namespace") or path)
        if kind == "projects" and now.lower() != path.lower():
            # GitLab answers a write by the old path 405 and redirects reads only until
            # a project is created there (lib/api/helpers.rb find_project!, route.rb).
            return Check(
                name,
                False,
                f"project {path} moved to {now}: GitLab refuses writes by the old path "
                f"and a new project there would take it over",
                f"set '{key}' to {now}",
            )
        level = gateway.member_access(kind, found["id"], user["id"])
        if level is not None and level >= need:
            return Check(name, True, f"{_level(level)} on {path}")
        if user.get("is_admin"):
            return Check(name, True, f"{_level(level)} on {path}, but an administrator")
        return Check(name, False, f"{_level(level)} on {path}, {_LEVELS[need]} needed", fix)

    return _guard(name, fix, check)


def _visibility(gateway: Gateway, key: str, path: str) -> Check:
    name = f"private {key}"

    def check() -> Check:
        project = gateway.project(path)
        if project is None:
            return Check(name, False, f"project {path} not found", f"create {path} (private)")
        visibility = project.get("visibility")
        if visibility == "public":
            return Check(
                name,
                False,
                f"{path} is public: it holds internal account facts",
                f"set {path} to private or internal (Settings > General > Visibility)",
            )
        return Check(name, True, f"{path} is {visibility}")

    return _guard(name, "check the project's visibility", check)


def _artifacts(gateway: Gateway, path: str) -> Check:
    """Job artifacts (ci/triage.yml: the shard results, report.md, dashboard/) are
    readable by whoever can read the project's jobs: with ``artifacts:access: developer``
    (doc/ci/yaml/_index.md) only Developers and above, but only a private project makes
    sure no one outside its members reads them (doc/user/public_access.md)."""
    name = "dashboard artifacts"

    def check() -> Check:
        project = gateway.project(path)
        if project is None:
            return Check(
                name,
                False,
                f"project {path} not found: not provably restricted",
                "check CI_PROJECT_PATH / ops_project and the token's access to it",
            )
        visibility = project.get("visibility")
        if visibility == "private":
            return Check(name, True, f"{path} is private (project members only)")
        return Check(
            name,
            False,
            f"{path} is {visibility}: the dashboard and the shard results (ARR, health) "
            f"would be job artifacts of a project people outside its members can see",
            f"set {path} to private (Settings > General > Visibility), or run the daily "
            f"triage from a private project",
        )

    return _guard(name, "check the project's visibility", check)


def _pages(gateway: Gateway, path: str) -> Check:
    """The dashboard (`report --html`, ci/pages.yml) holds ARR and health: GitLab Pages
    may publish it only when its readers are the project's members (doc/user/project/
    pages/pages_access_control.md; ``pages_access_level`` in doc/api/projects.md)."""
    name = "dashboard pages"

    def check() -> Check:
        project = gateway.project(path)
        if project is None:
            return Check(
                name,
                False,
                f"project {path} not found: not provably restricted",
                "check CI_PROJECT_PATH / ops_project and the token's access to it",
            )
        level = project.get("pages_access_level")
        members_only = level in ("private", "disabled") or (
            level == "enabled" and project.get("visibility") == "private"
        )
        if members_only:
            return Check(name, True, f"{path} Pages: {level} (project members only)")
        return Check(
            name,
            False,
            f"{path} Pages access is {level!r}: the dashboard (ARR, health) would be "
            f"readable beyond the project's members",
            "set Settings > General > Pages to 'Only project members', or do not set "
            "GL_CSM_PAGES (the dashboard then stays a job artifact)",
        )

    return _guard(name, "check the project's Pages access control", check)


def _taxonomy(gateway: Gateway, settings: Settings) -> Check:
    from gl_csm.services.setup import plan_setup

    plan = plan_setup(gateway, settings)
    missing = [c for c in plan.changes if c.action == "create-label"]
    if not missing:
        return Check("taxonomy", True, "every label of the taxonomy and the templates exists")
    sample = ", ".join(c.detail.split(" (")[0] for c in missing[:3])
    return Check(
        "taxonomy",
        False,
        f"{len(missing)} label(s) missing (e.g. {sample})",
        "run `gl-csm setup`",
    )


def _users(gateway: Gateway, settings: Settings) -> Check:
    names = sorted(set(settings.people.usernames()) | registry_usernames(settings.accounts_dir))
    unknown = [n for n in names if gateway.user(n) is None]
    if not unknown:
        return Check("users", True, f"all {len(names)} registry and config usernames exist")
    return Check(
        "users",
        False,
        f"{len(unknown)} of {len(names)} usernames are not GitLab users: {', '.join(unknown)}",
        "fix them in accounts/*.yml (team) or gl-csm.yml (people), or create the users",
    )


def _edition(gateway: Gateway, settings: Settings, admin: bool) -> Check:
    configured = settings.gitlab_edition
    fix = f"set gitlab_edition in gl-csm.yml to what the instance runs (now {configured})"

    def check() -> Check:
        meta = gateway.metadata()
        if meta is not None and meta.get("enterprise") is False:
            if configured != "free":
                return Check(
                    "edition", False, f"Community Edition, but gitlab_edition: {configured}", fix
                )
            return Check("edition", True, "Community Edition, gitlab_edition: free")
        if admin:
            lic = gateway.license()
            plan = str((lic or {}).get("plan") or "free").lower()
            plan = _PLANS.get(plan, plan)
            said = f"licensed {plan}" if lic else "no license (Free)"
            if plan != configured:
                return Check("edition", False, f"{said}, gitlab_edition: {configured}", fix)
            return Check("edition", True, f"{said}, gitlab_edition: {configured}")
        if configured == "free":
            return Check("edition", True, "gitlab_edition: free (uses no paid feature)")
        return Check(
            "edition",
            True,
            f"gitlab_edition: {configured}, not verified (reading the license needs an "
            f"administrator)",
        )

    return _guard("edition", fix, check)
