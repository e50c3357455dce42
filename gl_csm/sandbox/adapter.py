"""The sandbox as a ``requests`` transport adapter: python-gitlab with no network.

Mount it on the session python-gitlab uses::

    gl = gitlab.Gitlab("https://sandbox.test", private_token="t")
    gl.session.mount("https://sandbox.test", SandboxAdapter(sandbox))

The scheme and host of each request URL become the base of pagination links and
``web_url``s, so links point back at the mounted prefix.
"""

from __future__ import annotations

import io
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from gl_csm.sandbox.core import Sandbox
from gl_csm.sandbox.faults import Answer, Drop, FaultInjector, Faults, token_of


class SandboxAdapter(BaseAdapter):
    """Answers every request from ``sandbox``; optional transport ``faults``."""

    def __init__(self, sandbox: Sandbox, faults: Faults | None = None) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.faults = faults
        self.injector = FaultInjector(faults) if faults else None

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        base = f"{parts.scheme}://{parts.netloc}"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {k: str(v) for k, v in request.headers.items()}
        if self.injector is not None:
            self.injector.delay()
            decision = self.injector.decide(token_of(headers))
            if isinstance(decision, Drop):
                raise requests.ConnectionError(
                    "sandbox: connection dropped (injected fault)", request=request
                )
            if isinstance(decision, Answer):
                return self._response(request, decision.status, decision.headers, decision.body)
        status, out_headers, content = self.sandbox.handle(
            request.method or "GET", target, headers, _body_bytes(request.body), base
        )
        return self._response(request, status, out_headers, content)

    def _response(
        self,
        request: requests.PreparedRequest,
        status: int,
        headers: dict[str, str],
        content: bytes,
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({**headers, "Content-Length": str(len(content))})
        response._content = content
        response.raw = io.BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.reason = (
            HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        response.encoding = get_encoding_from_headers(response.headers)
        response.connection = self
        return response

    def close(self) -> None:
        """Nothing to release: no sockets."""


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part if isinstance(part, bytes) else str(part).encode() for part in body)
