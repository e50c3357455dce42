"""Fixtures: a seeded sandbox reached through python-gitlab and through raw requests."""

from __future__ import annotations

from typing import Any

import gitlab
import pytest
import requests

from gl_csm.sandbox import Sandbox, SandboxAdapter

BASE = "https://sandbox.test"
API = f"{BASE}/api/v4"
TOKEN = {"PRIVATE-TOKEN": "t"}


class Http:
    """Raw requests against the in-process sandbox: for status codes and headers."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.session = requests.Session()
        self.session.mount(BASE, SandboxAdapter(sandbox))

    def request(
        self, method: str, path: str, *, token: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = dict(TOKEN) if token else {}
        headers.update(kwargs.pop("headers", {}))
        return self.session.request(method, API + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def sb(request: pytest.FixtureRequest) -> Sandbox:
    """Free by default (the strictest); ``@pytest.mark.edition("premium")`` for a tier."""
    marker = request.node.get_closest_marker("edition")
    sandbox = Sandbox(edition=marker.args[0] if marker else "free")
    sandbox.seed(
        groups=["account-management/pre-sales", "account-management/customers"],
        projects=[("customer-success/accounts", "private")],
        users=["alice", "bob", "carol"],
    )
    return sandbox


@pytest.fixture
def members(sb: Sandbox) -> Sandbox:
    """alice, bob and carol are Developers of the private project, so they can be
    assigned its issues (IssuableBaseService#filter_assignees_using_checks)."""
    from gl_csm.sandbox.members import add_member

    project = sb.store.project("customer-success/accounts")
    for name in ("alice", "bob", "carol"):
        user = sb.store.user_by_username(name)
        assert user is not None
        add_member(sb.store, project, user["id"], 30, sb.bot_user_id)
    return sb


@pytest.fixture
def gl(sb: Sandbox) -> gitlab.Gitlab:
    client = gitlab.Gitlab(BASE, private_token="t")
    client.session.mount(BASE, SandboxAdapter(sb))
    return client


@pytest.fixture
def http(sb: Sandbox) -> Http:
    return Http(sb)


@pytest.fixture
def project(gl: gitlab.Gitlab) -> Any:
    return gl.projects.get("customer-success/accounts")
