"""Values to and from Shate-M Plus: tolerant converters for answers, formatters for requests.

Every value of an answer goes through a converter that never raises for one odd field: ids and
codes become str (article and order ids int), money float, flags bool or None when absent, dates
naive UTC ``datetime``. The document's examples are camelCase; keys are read case-insensitively
anyway (:func:`get_value`). Paths are relative to the host root (:data:`API` prefix).
"""

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone

from .errors import BadResponse
from .etm_data import text

UTC = timezone.utc  # noqa: UP017 - datetime.UTC needs Python 3.11; Odoo 18 runs on 3.10
API = "api/v1"
# What ShateClient._body answers for a body that is not JSON.
MALFORMED = object()


# -- answers -----------------------------------------------------------------------------------
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.I,
)


def to_datetime(value):
    """ISO 8601 as .NET writes it ("…T09:22:08.260Z", 7 fraction digits, offsets, bare dates)
    → naive UTC datetime; times without an offset are taken as UTC. None when unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    match = _ISO.match(text(value))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        return None
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def to_bool(value):
    """true/false, "true"/"false", 1/0 → bool; anything else (null, absent) → None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    lowered = text(value).lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


def format_datetime(value):
    """A date or datetime (naive = UTC) or ISO string for the service: 'YYYY-MM-DDTHH:MM:SS'."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_datetime(value).replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return text(value)


def get_value(row, *names):
    """The first present key of ``row`` among ``names``, compared case-insensitively."""
    if not isinstance(row, dict):
        return None
    for name in names:
        if name in row:
            return row[name]
    folded = {str(key).casefold(): value for key, value in row.items()}
    for name in names:
        value = folded.get(name.casefold())
        if value is not None:
            return value
    return None


def as_dict(value):
    return value if isinstance(value, dict) else {}


def dict_rows(rows):
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def messages_of(values):
    """A list of messages: strings, or objects with a ``message`` (the tables say Message)."""
    if isinstance(values, (str, dict)):
        values = [values]
    messages = []
    for value in values if isinstance(values, list) else []:
        message = (
            text(get_value(value, "message", "description"))
            if isinstance(value, dict)
            else text(value)
        )
        if message:
            messages.append(message)
    return messages


def rows_of(document, what):
    """The list a list endpoint answers; a single object counts as a one-item list; a wrapper
    object ({"items": [...]}, {"data": [...]}) is unwrapped."""
    if document is None:
        return []
    if isinstance(document, list):
        return dict_rows(document)
    if isinstance(document, dict):
        for key in ("items", "data", "results", "rows"):
            if isinstance(document.get(key), list):
                return dict_rows(document[key])
        return [document]
    raise BadResponse(f"Expected a list in the Shate-M {what} answer")


def normalize_key(value):
    """Article codes and brands compared without case, spaces or punctuation ("OC 100" = "oc100")."""
    return re.sub(r"[\W_]+", "", text(value).casefold())


# -- requests ----------------------------------------------------------------------------------
def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def include_param(include):
    """('contents', 'trademark') or 'contents,trademark' → 'contents,trademark' (None if empty)."""
    if isinstance(include, str):
        include = include.split(",")
    values = [text(value).lower() for value in include or () if text(value)]
    return ",".join(dict.fromkeys(values)) or None


def quantity_param(value):
    number = float(value)
    return int(number) if number.is_integer() else number


def as_list(values):
    """One value or an iterable of them → a list ('' and None → [])."""
    if values is None or values == "":
        return []
    if isinstance(values, (str, int)) or not isinstance(values, Iterable):
        return [values]
    return list(values)
