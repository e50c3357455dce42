"""A story's world: a registry, GitLab Free (the strict in-process sandbox) whose clock
is the story's day, the bot's commands as the scheduled and trigger pipelines run them,
and the person actions a CS team takes between runs. Everything that happens, and what
each reader then sees, goes into the story's transcript (transcript.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from gl_csm import markers
from gl_csm.config import Settings, load_settings
from gl_csm.errors import ConfigError, GlCsmError
from gl_csm.gitlab.gateway import Gateway
from gl_csm.gitlab.paths import enc
from gl_csm.plan import Outcome, Plan
from gl_csm.runtime import seed_sandbox
from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.issues import find_issue
from gl_csm.services.react import react
from gl_csm.services.setup import plan_setup
from gl_csm.services.triage.report import build_report, load_results, plan_report_issue
from gl_csm.services.triage.run import TriageRun, plan_triage
from tests.conftest import CONFIG
from tests.services.react_support import issue_hook
from tests.stories.transcript import Transcript

ACCOUNTS = "customer-success/accounts"
TRIAGE = "customer-success/account-triage"
ESCALATIONS = "customer-success/escalations"
PRE_SALES = "account-management/pre-sales"
POST_SALES = "account-management/customers"
#: The CS team of every story (GitLab users from the first day).
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
#: Escalation contacts (SPEC 5.0: `people.escalations.product` / `.support`).
ESCALATION_CONTACTS = {"product": "product-esc", "support": "support-esc"}
#: People told at yellow / red for a NORAM account with TEAM (SPEC 5.1; tests/conftest.py).
TEAM = {"csm": "alice", "sa": "bob", "ae": "carol", "pse": "dave"}
YELLOW_NORAM = ("carol", "bob", "noram-mgr", "noram-dir")
RED_NORAM = (*YELLOW_NORAM, "noram-asm", "noram-rd", "vp-cs")
KIND_PROJECT = {
    "tracking": ACCOUNTS,
    "triage": TRIAGE,
    "escalation": ESCALATIONS,
    "will-churn": ACCOUNTS,
    "handoff": ACCOUNTS,
    "disengage": ACCOUNTS,
    "reminder": ACCOUNTS,
}


def config_text(escalation_contacts: bool) -> str:
    """The repository's test config; with the escalation contacts of SPEC 5.0."""
    if not escalation_contacts:
        return CONFIG
    head, regions = CONFIG.split("  regions:\n", 1)
    return (
        head
        + "  escalations: {"
        + ", ".join(f"{k}: {v}" for k, v in ESCALATION_CONTACTS.items())
        + "}\n  regions:\n"
        + regions
    )


def days(start: date, end: date) -> Iterable[date]:
    """Every calendar day from start to end, both included (the schedule runs daily)."""
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


class World:
    """One story: registry files under ``root/accounts``, the sandbox, the transcript."""

    def __init__(self, root: Path, title: str, start: date, accounts: Mapping[str, dict]) -> None:
        self.root = root
        self.today = start
        (root / "accounts").mkdir(parents=True)
        for slug, data in accounts.items():
            self.write(slug, data)
        # The escalation contacts are part of the config (SPEC 5.0, 8). A gl-csm that
        # does not know the key refuses the whole config: the story then runs without
        # them and says so, and the expectations that need them fail on their own.
        self.config_refused: str | None = None
        (root / "gl-csm.yml").write_text(config_text(True))
        try:
            self.settings: Settings = load_settings(root / "gl-csm.yml", environ={})
        except ConfigError as exc:
            self.config_refused = str(exc).replace(f"{root}/", "")
            (root / "gl-csm.yml").write_text(config_text(False))
            self.settings = load_settings(root / "gl-csm.yml", environ={})
        self.sandbox = Sandbox(
            clock=lambda: dt.datetime.combine(self.today, dt.time(6), dt.UTC),
            edition="free",
            search="fulltext",
        )
        seed_sandbox(
            self.sandbox,
            self.settings,
            extra_users=[*PEOPLE, *ESCALATION_CONTACTS.values()],
        )
        self.gateway = self._gateway()
        #: What people read, from GitLab, without counting against the bot.
        self.reader = self._gateway()
        self.transcript = Transcript(title, self)
        if self.config_refused:
            self.transcript.event(f"config: without people.escalations ({self.config_refused})")
        #: Every triage run: (day, exit code, outcome text, run) — for the expectations.
        self.runs: list[tuple[date, int, str, TriageRun | None]] = []
        self.reports: dict[date, str] = {}
        #: What the story kept to compare later (a description as it stood on a day).
        self.kept: dict[str, Any] = {}
        #: Commands refused: (day, command, message).
        self.refusals: list[tuple[date, str, str]] = []
        self._run(plan_setup, "gl-csm setup", with_today=False)

    def _gateway(self) -> Gateway:
        gw = Gateway.for_transport(SandboxAdapter(self.sandbox))
        gw._create_wait_max = 0.0
        return gw

    # ------------------------------------------------------------------ registry

    def path(self, slug: str) -> Path:
        return self.root / "accounts" / f"{slug}.yml"

    def write(self, slug: str, data: Mapping[str, Any]) -> None:
        text = yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=None)
        self.path(slug).write_text(text)

    def data(self, slug: str) -> dict[str, Any]:
        return yaml.safe_load(self.path(slug).read_text())

    def edit(self, slug: str, why: str, **keys: Any) -> None:
        """A person edits the registry file (a merged MR): ``keys`` on top, None removes."""
        data = self.data(slug)
        for key, value in keys.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.write(slug, data)
        shown = ", ".join(
            f"{k}: {'(removed)' if v is None else _short(v)}" for k, v in keys.items()
        )
        self.transcript.event(f"person edits accounts/{slug}.yml ({why}): {shown}")

    # ------------------------------------------------------------------ the bot

    def _run(
        self, planner: Callable[..., Plan], what: str, *args: Any, with_today: bool = True
    ) -> Outcome | None:
        """Plan and apply one command; a refusal is written to the transcript and the
        story goes on (as a team would), returning None."""
        try:
            when = (self.today,) if with_today else ()
            plan = planner(self.gateway, self.settings, *args, *when)
        except GlCsmError as exc:
            self.transcript.event(f"bot: {what}: refused (exit 2): {_clean(self, str(exc))}")
            self.refusals.append((self.today, what, str(exc)))
            return None
        outcome = plan.apply(self.gateway)
        self.transcript.bot(what, outcome)
        return outcome

    def onboard(self, slug: str) -> Outcome | None:
        from gl_csm.services.collaboration.onboard import plan_onboard

        return self._run(plan_onboard, f"gl-csm onboard {slug}", slug)

    def promote(self, slug: str) -> Outcome | None:
        from gl_csm.services.collaboration.promote import plan_promote

        return self._run(plan_promote, f"gl-csm promote {slug}", slug)

    def handoff(self, slug: str, new_csm: str) -> Outcome | None:
        from gl_csm.services.moves.handoff import plan_handoff

        return self._run(plan_handoff, f"gl-csm handoff {slug} {new_csm}", slug, new_csm)

    def verify(self, slug: str) -> str:
        from gl_csm.services.collaboration.verify import plan_verify, render_verification

        v = plan_verify(self.gateway, self.settings, slug, self.today)
        text = _clean(self, render_verification(v, None, "text", dry_run=False, stats=None))
        self.transcript.event(f"bot: gl-csm verify {slug}:\n{_indent(text)}")
        return text

    def accounts_import(self, csv_text: str) -> Outcome:
        from gl_csm.services.moves.accounts_import import plan_import

        csv_path = self.root / "crm-export.csv"
        csv_path.write_text(csv_text)
        self.transcript.event(f"person exports from the CRM:\n{_indent(csv_text.rstrip())}")
        plan = plan_import(self.settings, csv_path)
        outcome = plan.apply(self.gateway)
        self.transcript.bot("gl-csm accounts import crm-export.csv", outcome)
        return outcome

    def triage(self) -> int:
        """The scheduled pipeline: `gl-csm triage --format json`, then `gl-csm report
        --issue` from its results (README "CI"): exit code as the CLI's."""
        try:
            run = plan_triage(self.gateway, self.settings, self.today)
        except GlCsmError as exc:
            text = f"refused: {_clean(self, str(exc))}"
            self.transcript.event(f"bot: gl-csm triage: exit 2: {text}")
            self.runs.append((self.today, 2, text, None))
            return 2
        except Exception as exc:  # noqa: BLE001 - a crash is part of what the story shows
            text = f"crashed: {type(exc).__name__}: {_clean(self, str(exc))}"
            self.transcript.event(f"bot: gl-csm triage: {text}")
            self.runs.append((self.today, 1, text, None))
            return 1
        outcome = run.plan.apply(self.gateway)
        failed = [f.account for f in outcome.failures]
        extra = run.extra(failed)
        text = self.transcript.bot("gl-csm triage", outcome)
        json_text = outcome.render("json", dry_run=False, extra=extra)
        self.runs.append((self.today, outcome.exit_code, text + "\n" + json_text, run))
        # What CI hands `gl-csm report`: the whole `--format json` document, its
        # `errors` included (README "CI": `gl-csm triage --format json > triage-1.json`).
        results = self.root / "triage.json"
        results.write_text(json_text)
        report = build_report(self.gateway, self.settings, load_results([results]), self.today)
        plan_report_issue(self.gateway, self.settings, report, self.today).apply(self.gateway)
        self.reports[self.today] = _clean(self, report)
        self.transcript.report(self.reports[self.today])
        return outcome.exit_code

    def rerun_writes(self) -> int:
        """Writes of a second triage the same day (SPEC 5: nothing)."""
        before = self.gateway.stats.writes
        plan_triage(self.gateway, self.settings, self.today).plan.apply(self.gateway)
        return self.gateway.stats.writes - before

    # ------------------------------------------------------------------ people in GitLab

    def issue(self, kind: str, key: str) -> dict | None:
        """The bot's issue of ``kind`` for ``key`` (by its hidden marker), as it is now."""
        found = markers.index_by_marker(self.reader.issues(KIND_PROJECT[kind], state="all"), kind)
        return found.get(key)

    def _target(self, who: str, kind: str, key: str, what: str) -> dict | None:
        issue = self.issue(kind, key)
        if issue is None:
            self.transcript.event(f"{who} would {what} the {kind} issue of {key}: there is none")
        return issue

    def has(self, kind: str, key: str) -> bool:
        issues = self.reader.issues(KIND_PROJECT[kind], state="all")
        return key in markers.index_by_marker(issues, kind)

    def label(
        self, who: str, kind: str, key: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> None:
        """A person changes labels; GitLab's Issue Hook runs `gl-csm react` (the trigger
        pipeline) when a label was added."""
        add, remove = list(add), list(remove)
        project = KIND_PROJECT[kind]
        issue = self._target(who, kind, key, "label")
        if issue is None:
            return
        before = list(issue.get("labels") or [])
        self.reader.update_issue(
            project,
            issue["iid"],
            **({"add_labels": ",".join(add)} if add else {}),
            **({"remove_labels": ",".join(remove)} if remove else {}),
        )
        said = [f"+{n}" for n in add] + [f"-{n}" for n in remove]
        self.transcript.event(f"{who} labels the {kind} issue of {key}: {' '.join(said)}")
        if add:
            now = self.issue(kind, key) or issue
            payload = issue_hook(project, now, added=add, previous=before)
            reaction, outcome = react(self.gateway, self.settings, self.today, payload)
            self.transcript.bot("gl-csm react (Issue Hook)", outcome)

    def comment(self, who: str, kind: str, key: str, body: str) -> None:
        issue = self._target(who, kind, key, "comment on")
        if issue is None:
            return
        # A person's note: no bot marker (what the bot tells people's notes apart by).
        posted = self.reader.gl.http_post(
            f"/projects/{enc(KIND_PROJECT[kind])}/issues/{issue['iid']}/notes",
            post_data={"body": body},
        )
        self._authored_by(KIND_PROJECT[kind], issue["iid"], posted["id"], who)
        self.transcript.event(f"{who} comments on the {kind} issue of {key}")
        self.transcript.person_note(KIND_PROJECT[kind], issue["iid"], who)

    def _authored_by(self, project: str, iid: int, note_id: int, who: str) -> None:
        """The sandbox takes every token for the bot's: the note becomes ``who``'s, as
        GitLab records the author of a note a person writes (what the bot quotes)."""
        store = self.sandbox.store
        user = store.user_by_username(who)
        assert user is not None, f"{who} is not a sandbox user"
        item = find_issue(store.project(project), str(iid))
        note = next(n for n in item["notes"] if n["id"] == note_id)
        note["author_id"] = user["id"]

    def tick(self, who: str, kind: str, key: str, *boxes: str) -> None:
        """A person ticks the checklist boxes whose text starts with one of ``boxes``
        (every open box when none is given) in the issue's description."""
        issue = self._target(who, kind, key, "tick boxes on")
        if issue is None:
            return
        body = issue.get("description") or ""
        ticked: list[str] = []

        def tick_line(m: re.Match[str]) -> str:
            text = m.group(2)
            if not boxes or any(text.startswith(b) for b in boxes):
                ticked.append(text)
                return f"{m.group(1)}[x] {text}"
            return m.group(0)

        body = re.sub(r"^(\s*[-*] )\[ \] (.*)$", tick_line, body, flags=re.MULTILINE)
        if not ticked:
            self.transcript.event(f"{who} finds no open box {boxes} on the {kind} issue of {key}")
            return
        self.reader.update_issue(KIND_PROJECT[kind], issue["iid"], description=body)
        shown = "\n".join(f"  [x] {t}" for t in ticked)
        self.transcript.event(f"{who} ticks on the {kind} issue of {key}:\n{shown}")

    def close(self, who: str, kind: str, key: str) -> None:
        issue = self._target(who, kind, key, "close")
        if issue is None:
            return
        self.reader.update_issue(KIND_PROJECT[kind], issue["iid"], state_event="close")
        self.transcript.event(f"{who} closes the {kind} issue of {key}")

    def customer_project(self, slug: str) -> dict | None:
        """The account's collaboration project, where the registry says it is."""
        path = self.data(slug).get("project")
        return self.reader.project(path) if path else None

    def customer_issue(self, slug: str, title: str) -> dict | None:
        project = self.customer_project(slug)
        if project is None:
            return None
        for issue in self.reader.issues(project["id"], state="all"):
            if issue["title"].startswith(title):
                return issue
        return None

    def close_customer_issue(self, who: str, slug: str, title: str) -> None:
        """A person closes an issue of the collaboration project (a done checklist)."""
        issue = self.customer_issue(slug, title)
        if issue is None:
            self.transcript.event(f"{who} would close {title!r} in the project of {slug}: none")
            return
        project = self.customer_project(slug)
        assert project is not None
        self.reader.update_issue(project["id"], issue["iid"], state_event="close")
        self.transcript.event(f"{who} closes {issue['title']!r} in the project of {slug}")

    def close_customer_milestone(self, who: str, slug: str, title: str) -> None:
        """A person closes a milestone of the collaboration project (doc/api/milestones.md
        "Edit milestone", ``state_event=close``): its issues are not updated."""
        project = self.customer_project(slug)
        found = [
            m
            for m in (self.reader.milestones(project["id"]) if project else [])
            if m["title"].startswith(title)
        ]
        if project is None or not found:
            self.transcript.event(f"{who} would close milestone {title!r} of {slug}: none")
            return
        self.reader.gl.http_put(
            f"/projects/{project['id']}/milestones/{found[0]['id']}",
            post_data={"state_event": "close"},
        )
        self.transcript.event(f"{who} closes the milestone {found[0]['title']!r} of {slug}")

    def open_customer_issue(
        self,
        who: str,
        slug: str,
        title: str,
        labels: Iterable[str] = (),
        due: date | None = None,
    ) -> None:
        """``who`` (a team member, or someone of the customer's) opens an issue in the
        collaboration project: a meeting agenda, a customer's question."""
        project = self.customer_project(slug)
        if project is None:
            self.transcript.event(f"{who} would open {title!r} in the project of {slug}: none")
            return
        fields = {"title": title, "labels": ",".join(labels)}
        if due is not None:
            fields["due_date"] = due.isoformat()
        made = self.reader.gl.http_post(f"/projects/{project['id']}/issues", post_data=fields)
        self._author(project["id"], made["iid"], who)
        self.transcript.event(f"{who} opens {title!r} in the project of {slug}")

    def reply_customer_issue(self, who: str, slug: str, title: str, body: str) -> None:
        """``who`` replies on an issue of the collaboration project."""
        issue, project = self.customer_issue(slug, title), self.customer_project(slug)
        if issue is None or project is None:
            self.transcript.event(f"{who} would reply on {title!r} of {slug}: none")
            return
        note = self.reader.gl.http_post(
            f"/projects/{project['id']}/issues/{issue['iid']}/notes", post_data={"body": body}
        )
        self._author(project["id"], issue["iid"], who, note_id=note["id"])
        self.transcript.event(f"{who} replies on {issue['title']!r} in the project of {slug}")

    def _author(self, project_id: int, iid: int, who: str, note_id: int | None = None) -> None:
        """The sandbox authenticates every token as the bot: the person is set as the
        author in its store, as GitLab would record the person who wrote it."""
        self.sandbox.seed(users=[who])
        store = self.sandbox.store
        user = store.user_by_username(who)
        assert user is not None
        item = store.project(str(project_id))["issues"][iid]
        if note_id is None:
            item["author_id"] = user["id"]
        else:
            for note in item["notes"]:
                if note["id"] == note_id:
                    note["author_id"] = user["id"]

    # ------------------------------------------------------------------ days

    def day(self, today: date) -> None:
        """A new day: what follows (people, then the scheduled run) is today's."""
        self.today = today
        self.transcript.day(today)

    def run_days(
        self,
        start: date,
        end: date,
        actions: Mapping[date, Callable[[], None]] | None = None,
    ) -> None:
        """Each day: the people's actions of that day, then the scheduled triage; what
        readers see is recorded at the end of each day."""
        for today in days(start, end):
            self.day(today)
            action = (actions or {}).get(today)
            if action:
                action()
            self.triage()
            self.transcript.snapshot()

    def account_names(self) -> list[str]:
        return sorted(
            yaml.safe_load(p.read_text())["name"] for p in (self.root / "accounts").glob("*.yml")
        )

    # ------------------------------------------------------------------ reading

    def notes(self, kind: str, key: str) -> list[str]:
        """Bodies of the notes people read on the issue, oldest first (no system notes)."""
        issue = self.issue(kind, key)
        if issue is None:
            return []
        notes = self.reader.notes(KIND_PROJECT[kind], issue["iid"])
        return [n["body"] for n in sorted(notes, key=lambda n: n["id"]) if not n.get("system")]

    def bot_notes(self, kind: str, key: str) -> list[str]:
        return [b for b in self.notes(kind, key) if "gl-csm" in b]

    def mentioned(self, kind: str, key: str, source: str | None = None) -> list[str]:
        """Usernames GitLab notified on the issue (each time), by description or note."""
        issue = self.issue(kind, key)
        if issue is None:
            return []
        return [
            m["username"]
            for m in self.sandbox.mentions
            if m["project"] == KIND_PROJECT[kind]
            and m["noteable_iid"] == issue["iid"]
            and (source is None or m["source"] == source)
        ]

    def description(self, kind: str, key: str) -> str:
        issue = self.issue(kind, key)
        return (issue or {}).get("description") or ""

    def customer_file(self, slug: str, path: str) -> str:
        project = self.customer_project(slug)
        if project is None:
            return ""
        return self.reader.file_text(project["id"], path, "main") or ""

    def customer_issues(self, slug: str) -> list[dict]:
        project = self.customer_project(slug)
        return self.reader.issues(project["id"], state="all") if project else []

    def customer_texts(self, slug: str) -> dict[str, str]:
        """Every text the customer reads in the project: files, issues, milestones."""
        project = self.customer_project(slug)
        if project is None:
            return {}
        pid = project["id"]
        out = {"description": project.get("description") or ""}
        for entry in self.reader.tree(pid, "main"):
            if entry["type"] == "blob":
                out[entry["path"]] = self.reader.file_text(pid, entry["path"], "main") or ""
        for issue in self.reader.issues(pid, state="all"):
            out[f"issue {issue['title']}"] = issue.get("description") or ""
        for m in self.reader.milestones(pid, state="all"):
            out[f"milestone {m['title']}"] = m.get("description") or ""
        return out

    def rendered(self) -> str:
        return self.transcript.render()


def _short(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())


def _clean(world: World, text: str) -> str:
    return world.transcript.clean(text)
