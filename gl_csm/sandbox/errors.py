"""Errors answered the way GitLab's Grape API answers them.

GitLab uses two body shapes (lib/api/helpers.rb): ``{"message": ...}`` for
not-found/conflict/validation errors and ``{"error": ...}`` for parameter
validation done by Grape (missing or invalid parameters). Clients such as
python-gitlab read either key, so the shape matters.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer; raised anywhere in a handler, rendered by the router."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(what: str | None = None) -> ApiError:
    """404 as ``not_found!(resource)``: ``{"message": "404 Project Not Found"}``.

    Without a resource it is the catch-all for unknown API routes (lib/api/api.rb),
    which Grape renders as ``{"error": "404 Not Found"}``.
    """
    if what is None:
        return ApiError(404, {"error": "404 Not Found"})
    return ApiError(404, {"message": f"404 {what} Not Found"})


def record_not_found() -> ApiError:
    """404 of a ``find_by!`` that finds nothing: lib/api/api.rb ``rescue_from
    ActiveRecord::RecordNotFound`` renders ``{"message": "404 Not found"}``."""
    return ApiError(404, {"message": "404 Not found"})


def bad_request(message: Any) -> ApiError:
    """400 with a ``message`` body (model validation errors, service errors)."""
    return ApiError(400, {"message": message})


def missing(*names: str) -> ApiError:
    """400 from Grape for required parameters: ``{"error": "title is missing"}``."""
    return ApiError(400, {"error": ", ".join(f"{n} is missing" for n in names)})


def at_least_one_missing(*names: str) -> ApiError:
    """400 from Grape's ``at_least_one_of`` when none is given:
    ``{"error": "a, b are missing, at least one parameter must be provided"}``."""
    return ApiError(
        400, {"error": f"{', '.join(names)} are missing, at least one parameter must be provided"}
    )


def exactly_one_missing(*names: str) -> ApiError:
    """400 from Grape's ``exactly_one_of`` when none is given:
    ``{"error": "a, b are missing, exactly one parameter must be provided"}``."""
    return ApiError(
        400, {"error": f"{', '.join(names)} are missing, exactly one parameter must be provided"}
    )


def invalid(name: str) -> ApiError:
    """400 from Grape for a value outside ``values:``: ``x does not have a valid value``."""
    return ApiError(400, {"error": f"{name} does not have a valid value"})


def is_invalid(name: str) -> ApiError:
    """400 from Grape for a value that cannot be coerced: ``x is invalid``."""
    return ApiError(400, {"error": f"{name} is invalid"})


def conflict(message: str) -> ApiError:
    return ApiError(409, {"message": message})


def forbidden() -> ApiError:
    return ApiError(403, {"message": "403 Forbidden"})


def unauthorized() -> ApiError:
    return ApiError(401, {"message": "401 Unauthorized"})


def method_not_allowed() -> ApiError:
    """Grape's answer for a known path with a method it does not route."""
    return ApiError(405, {"error": "405 Not Allowed"})


def ruby_errors(errors: dict[str, list[str]]) -> str:
    """Format model errors like Ruby's ``errors.messages.inspect`` (pre-3.4 Hash#inspect).

    GitLab embeds this in messages such as ``Failed to transfer project {...}``
    (lib/api/projects.rb) and ``Failed to create milestone {...}``
    (lib/api/milestone_responses.rb).
    """
    parts = []
    for key, msgs in errors.items():
        inner = ", ".join('"' + m.replace('"', '\\"') + '"' for m in msgs)
        parts.append(f":{key}=>[{inner}]")
    return "{" + ", ".join(parts) + "}"
