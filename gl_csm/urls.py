"""URLs as they may be shown to a person or written to GitLab.

A ``GITLAB_URL`` like ``https://user:token@host`` carries credentials in its userinfo
(RFC 3986 section 3.2.1); nothing the bot prints, logs or posts may repeat them (issue
10). :func:`redact_url` is applied wherever a configured URL is shown.
"""

from __future__ import annotations

import re

# scheme://userinfo@ — userinfo is everything before the last "@" of the authority.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*@)+")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
# A GitLab token (doc/security/tokens/_index.md "Token prefixes": glpat-, gloas-,
# glrt-, gldt-, ...) or a path segment of 20+ letters and digits mixed, no separator
# (a project path has words between its hyphens).
_TOKENISH = re.compile(r"^(gl[a-z]{1,6}-[\w\-]{6,}|(?=\w*\d)(?=\w*[A-Za-z])\w{20,})$")


def _redact_one(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = ""
    while url and url[-1] in ".,;:)!":  # sentence punctuation after the URL
        trail, url = url[-1] + trail, url[:-1]
    url = _USERINFO.sub(r"\g<scheme>***@", url)
    for mark in ("#", "?"):  # a query or fragment may carry private_token=...
        head, sep, _rest = url.partition(mark)
        if sep:
            url = f"{head}{mark}***"
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if slash:
        path = "/".join("***" if _TOKENISH.match(seg) else seg for seg in path.split("/"))
    return f"{scheme}{sep}{authority}{slash}{path}{trail}"


def redact_url(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``: the
    userinfo, the query and fragment, and path segments that look like a token."""
    return _URL.sub(_redact_one, text)
