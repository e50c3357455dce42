"""URLs as they may be shown to a person or written to GitLab.

A ``GITLAB_URL`` like ``https://user:token@host`` carries credentials in its userinfo
(RFC 3986 section 3.2.1); nothing the bot prints, logs or posts may repeat them (issue
10). :func:`redact_url` is applied wherever a configured URL is shown.
"""

from __future__ import annotations

import re

# scheme://userinfo@ — userinfo is everything before the last "@" of the authority.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*@)+")


def redact_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***@``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)
