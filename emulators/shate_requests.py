"""Reading requests to the Shate-M Plus emulator the ASP.NET way, and rejecting them at once.

Query and JSON property names are case-insensitive (``lower_keys``: handlers read lower-case
keys); list parameters may be repeated and/or comma-separated (``split_values``). A handler's
helpers ``raise reject(...)`` to answer with the ``{"code","description","messages"}`` shape.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Response, json_response
from .shate_answers import INCLUDE_ALIASES, error_body

API_PREFIX = "/api/v1"


class Reject(Exception):
    """Raised by a handler's helpers to answer with ``response`` at once."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def reject(status: int, code: str, description: str, *messages: str) -> Reject:
    return Reject(json_response(error_body(code, description, *messages), status))


def lower_keys(value):
    """JSON with every object key lower-cased (property names are case-insensitive)."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def split_values(values: Iterable) -> list[str]:
    """Values of a repeated and/or comma-separated parameter (or a JSON string/list)."""
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values or ():
        out.extend(part.strip() for part in str(value).split(",") if part.strip())
    return out


def include_names(values) -> set[str]:
    names = (v.replace("_", "").replace(" ", "").lower() for v in split_values(values))
    return {INCLUDE_ALIASES[name] for name in names if name in INCLUDE_ALIASES}
