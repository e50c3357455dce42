"""Instance and token metadata a preflight reads (gl_csm/sandbox/meta.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests

from gl_csm.sandbox import Sandbox, SandboxAdapter
from gl_csm.sandbox.meta import set_token

URL = "https://sandbox.gl-csm.invalid/api/v4"


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


def _get(sb: Sandbox, path: str, token: str = "t", method: str = "GET") -> requests.Response:
    session = requests.Session()
    session.mount("https://sandbox.gl-csm.invalid", SandboxAdapter(sb))
    headers = {"PRIVATE-TOKEN": token} if token else {}
    return session.request(method, URL + path, headers=headers)


def test_version_answers_gitlabs_version_json(sb: Sandbox) -> None:
    """doc/api/version.md: GET /version, 200 for authenticated users, 401 without."""
    assert "version" in _get(sb, "/version").json()
    assert _get(sb, "/version", token="").status_code == 401


def test_token_self_describes_the_token_used(sb: Sandbox) -> None:
    """doc/api/personal_access_tokens.md "Self-inform": GET /personal_access_tokens/self."""
    body = _get(sb, "/personal_access_tokens/self").json()
    assert body["scopes"] == ["api"] and body["active"] is True and body["revoked"] is False
    assert date.fromisoformat(body["expires_at"]) > date.today()
    set_token(sb.store, "ro", scopes=("read_api",), expires_at=date.today() + timedelta(days=3))
    body = _get(sb, "/personal_access_tokens/self", "ro").json()
    assert body["scopes"] == ["read_api"]
    assert body["expires_at"] == (date.today() + timedelta(days=3)).isoformat()


def test_expired_or_revoked_token_is_401_everywhere_and_read_api_cannot_write(
    sb: Sandbox,
) -> None:
    """lib/api/api_guard.rb: expired/revoked tokens are 401 invalid_token; a token
    without the api scope is 403 insufficient_scope on a write."""
    set_token(sb.store, "old", expires_at=date.today() - timedelta(days=1))
    set_token(sb.store, "gone", revoked=True)
    set_token(sb.store, "ro", scopes=("read_api",))
    for token, text in (("old", "Token has expired."), ("gone", "Token was revoked.")):
        answer = _get(sb, "/user", token)
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
        assert answer.json()["error_description"].startswith(text)
    assert _get(sb, "/user", "ro").status_code == 200
    write = _get(sb, "/groups?name=x&path=x", "ro", method="POST")
    assert write.status_code == 403 and write.json()["error"] == "insufficient_scope"


def test_license_is_for_administrators_only(sb: Sandbox) -> None:
    """doc/api/license.md: 403 unless the user is an administrator; Free has none."""
    assert _get(sb, "/license").status_code == 200 and _get(sb, "/license").json() is None
    bot = sb.store.user_by_username(sb.bot_username)
    assert bot is not None
    bot["is_admin"] = False
    assert _get(sb, "/license").status_code == 403
