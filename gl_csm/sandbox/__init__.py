"""Built-in GitLab REST API v4 emulator (see ARCHITECTURE.md, "The sandbox").

One core (``Sandbox.handle``) served two ways: in-process as a ``requests``
adapter (``SandboxAdapter``) and over HTTP (``serve``). ``Faults`` injects
latency, 502s, 429s and dropped connections for reliability tests.
"""

from gl_csm.sandbox.adapter import SandboxAdapter
from gl_csm.sandbox.core import Sandbox
from gl_csm.sandbox.faults import Faults
from gl_csm.sandbox.server import SandboxServer, serve

__all__ = ["Faults", "Sandbox", "SandboxAdapter", "SandboxServer", "serve"]
