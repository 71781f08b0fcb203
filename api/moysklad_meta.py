"""MoySklad meta and href readers, in one place for every MoySklad data module.

Every MoySklad object carries ``meta`` (``href``, ``type``, ``mediaType``…) and a reference to
another object is only its ``meta``. These helpers read them without ever raising on a row:
what is not there gives "" (or {}).

- ``ref_id``: ``id`` when present, else the last path part of ``meta.href`` (query dropped).
- ``entity_values(row, texts, kinds)``: what the parsers of list rows share: the row as a dict,
  its id and href, and the given text fields under their snake_case names; None for a row
  without id (when one is needed) or (when ``kinds`` is given and the row says its type) of another type.

Building references (``{"meta": {...}}`` from an href) is ``moysklad_payloads.meta_ref``.
"""

import re

__all__ = [
    "entity_values",
    "href_of",
    "id_from_href",
    "meta_of",
    "ref_id",
    "snake_case",
    "type_of",
]

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def text(value):
    return value.strip() if isinstance(value, str) else ""


def _dict(value):
    return value if isinstance(value, dict) else {}


def meta_of(obj):
    return _dict(_dict(obj).get("meta"))


def href_of(obj):
    return text(meta_of(obj).get("href"))


def type_of(obj):
    return text(meta_of(obj).get("type"))


def id_from_href(href):
    """The last path part of a MoySklad href (query string dropped)."""
    href = text(href).split("?", 1)[0].rstrip("/")
    return href.rsplit("/", 1)[-1] if href else ""


def ref_id(obj):
    """Id of an object or of a meta reference to it."""
    obj = _dict(obj)
    return text(obj.get("id")) or id_from_href(href_of(obj))


def snake_case(name):
    """``externalCode`` → ``external_code`` (MoySklad's JSON names → dataclass fields)."""
    return _CAPITAL.sub("_", name).lower()


def entity_values(row, texts=(), kinds=(), *, need_id=True):
    """``(row as a dict, values)``; values: ``id``, ``href`` and each JSON field of ``texts``
    (stripped text) under its snake_case name, or None when the row has no id (unless
    ``need_id`` is False) or its ``meta.type`` is given and not one of ``kinds``."""
    row = _dict(row)
    entity_id = ref_id(row)
    kind = type_of(row)
    if (need_id and not entity_id) or (kinds and kind and kind not in kinds):
        return row, None
    values = {"id": entity_id, "href": href_of(row)}
    values.update((snake_case(name), text(row.get(name))) for name in texts)
    return row, values
