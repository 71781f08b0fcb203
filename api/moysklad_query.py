"""Query strings for MoySklad lists: ``filter``, ``search``, ``order``, ``limit``/``offset``,
``expand``, and the Moscow-time dates they carry.

- Dates: MoySklad reads and writes date-times as ``YYYY-MM-DD HH:MM:SS[.mmm]`` in Moscow time
  (MSK, UTC+3 all year since 2014: a fixed offset, no zoneinfo needed). Our datetimes are naive
  UTC (Odoo) or aware; ``to_moscow_text`` turns either into MoySklad's text, ``parse_moscow``
  turns MoySklad's text back into naive UTC.
- Filter: conditions ``field<op>value`` joined by ``;``. The document says a ``;`` inside a value
  is written ``\\;``. It says nothing about a backslash: a value *ending* in a backslash would
  turn our separator into an escaped ``\\;`` and glue the next condition into the value, so such
  a value is refused (ValueError); other backslashes are sent as they are. Field names are
  plain identifiers (``updated``, ``state.name``) or an attribute's URL; operators are the
  document's list only. Control characters are refused in values.
- requests URL-encodes the whole parameter value; nothing is pre-encoded here.
- ``limit`` is 1 to 1000; with ``expand`` MoySklad ignores the expand above 100, so the limit is
  lowered to 100 when an expand is asked (``list_params``).
"""

import re
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "EXPAND_LIMIT",
    "MAX_LIMIT",
    "MOSCOW",
    "Filter",
    "list_params",
    "parse_moscow",
    "to_moscow_text",
]

MOSCOW = timezone(timedelta(hours=3), "MSK")
UTC = timezone.utc  # noqa: UP017 (Odoo 18 runs on Python 3.10)
MAX_LIMIT = 1000
EXPAND_LIMIT = 100
OPERATORS = ("=", ">", "<", ">=", "<=", "!=", "~", "~=", "=~")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|https?://[^\s;=<>!~]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MOSCOW_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


def to_moscow_text(moment, *, seconds=True):
    """MoySklad's date-time text (Moscow time) for a naive-UTC or aware datetime, or a date
    (midnight Moscow)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        local = aware.astimezone(MOSCOW)
    elif isinstance(moment, date):
        local = datetime(moment.year, moment.month, moment.day, tzinfo=MOSCOW)
    else:
        raise TypeError("expected a datetime or a date")
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def parse_moscow(text):
    """Naive UTC datetime for MoySklad's ``YYYY-MM-DD HH:MM:SS[.mmm]`` (Moscow); None if not one."""
    if not isinstance(text, str):
        return None
    match = _MOSCOW_TEXT.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0")) if fraction else 0
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), micro, tzinfo=MOSCOW)  # fmt: skip
    except ValueError:
        return None
    return local.astimezone(UTC).replace(tzinfo=None)


def _value_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return to_moscow_text(value)
    text = str(value)
    if _CONTROL.search(text):
        raise ValueError("A MoySklad filter value cannot hold control characters or line breaks")
    if text.endswith("\\"):
        raise ValueError(
            "A MoySklad filter value cannot end with a backslash (it would escape the separator)"
        )
    return text.replace(";", "\\;")


class Filter:
    """Builder of a ``filter`` parameter: ``Filter().eq("externalCode", "a;b").gte("updated",
    dt)`` → ``externalCode=a\\;b;updated>=2026-01-01 03:00:00``. Conditions keep their order;
    several ``eq`` on one field mean OR for MoySklad (``any_of``)."""

    def __init__(self):
        self._conditions = []

    def add(self, field, operator, value):
        if operator not in OPERATORS:
            raise ValueError(f"Unknown MoySklad filter operator {operator!r}")
        field = str(field)
        if not _FIELD.fullmatch(field):
            raise ValueError(f"Not a MoySklad filter field: {field!r}")
        self._conditions.append(f"{field}{operator}{_value_text(value)}")
        return self

    def eq(self, field, value):
        return self.add(field, "=", value)

    def ne(self, field, value):
        return self.add(field, "!=", value)

    def gt(self, field, value):
        return self.add(field, ">", value)

    def gte(self, field, value):
        return self.add(field, ">=", value)

    def lt(self, field, value):
        return self.add(field, "<", value)

    def lte(self, field, value):
        return self.add(field, "<=", value)

    def like(self, field, value):
        return self.add(field, "~", value)

    def any_of(self, field, values):
        for value in values:
            self.eq(field, value)
        return self

    def updated_since(self, moment):
        """``updated>=`` the watermark (naive UTC or aware), in Moscow time."""
        return self.gte("updated", moment)

    def __bool__(self):
        return bool(self._conditions)

    def __str__(self):
        return ";".join(self._conditions)

    __repr__ = __str__


def _filter_text(value):
    if value is None:
        return None
    if isinstance(value, Filter):
        return str(value) or None
    if isinstance(value, dict):
        built = Filter()
        for field, item in value.items():
            if isinstance(item, (list, tuple, set)):
                built.any_of(field, item)
            else:
                built.eq(field, item)
        return str(built) or None
    return str(value) or None


def list_params(*, limit=MAX_LIMIT, offset=0, filter=None, search=None, order=None,
                expand=None, extra=None):  # fmt: skip
    """The query parameters of a list request (see the module docstring)."""
    limit = max(1, min(int(limit or MAX_LIMIT), MAX_LIMIT))
    params = {}
    if expand:
        expand = expand if isinstance(expand, str) else ",".join(expand)
        limit = min(limit, EXPAND_LIMIT)
        params["expand"] = expand
    params["limit"] = limit
    if offset:
        params["offset"] = max(0, int(offset))
    text = _filter_text(filter)
    if text:
        params["filter"] = text
    if search:
        if _CONTROL.search(str(search)):
            raise ValueError("A MoySklad search cannot hold control characters")
        params["search"] = str(search)
    if order:
        params["order"] = order if isinstance(order, str) else ";".join(order)
    params.update(extra or {})
    return params
