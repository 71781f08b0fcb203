"""Lists of the MoySklad emulator: ``limit``/``offset``, ``filter``, ``search``, ``order``,
``expand``, and the collection ``meta`` with ``nextHref``/``previousHref``.

* ``limit`` 1..1000 (default 1000), ``offset`` ≥ 0; anything else → 400 code 1040 with
  ``parameter`` naming it (the documentation states the range, not the code). ``expand`` is
  honoured with ``limit`` ≤ 100 and silently ignored above, as documented.
* ``filter``: conditions separated by ``;`` (``\\;`` is a literal ``;``), operators ``=``,
  ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~`` (contains), ``~=`` (starts with), ``=~`` (ends
  with), the like-operators case-insensitive. Several ``=`` on one field are OR, several ``!=``
  AND; ``=`` together with a comparison on one field → 1034; for comparisons only the first
  counts. ``field=`` matches an empty value, ``field!=`` a present one. Fields: the type's
  scalar fields, ``id``, ``updated``, ``created``, ``pathName``, references by href, for
  goods ``barcode`` (and ``type`` on the assortment), ``productid`` for variants and
  ``state.name`` for documents. An unknown field → 400 code 1034; a value
  that is not a boolean, number or UUID where one is needed → 1014; a bad date → 1035.
  Several ``filter`` parameters are joined.
* ``search``: every word of the query must start a word of the name, code, article, external
  code, description, barcodes (and INN, e-mail, phone, legal title of companies), ignoring case.
* ``order``: ``field[,asc|desc]`` separated by ``;`` on scalar fields; unknown → 400 code 1063.
* The ids matching a (type, filter, search, order) are cached until the next write, so paging a
  big list costs a slice per page.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from .moysklad_protocol import UUID_RE, MsError
from .moysklad_store import FIELDS, ROOT, Ref, parse_moment

_CONDITION = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*)(>=|<=|!=|~=|=~|=|>|<|~)(.*)$", re.S)
_SPLIT = re.compile(r"(?<!\\);")
_SCALAR = ("str", "text", "bool", "num", "int", "uuid", "dt")
_WORD = re.compile(r"\w+", re.U)
_SEARCH_FIELDS = ("name", "code", "article", "externalCode", "description", "legalTitle", "inn",
                  "email", "phone")


def filter_error(message: str, parameter: str | None = None) -> MsError:
    return MsError(400, 1034, f"Ошибка фильтрации: {message}", parameter)


def field_kinds(type_: str) -> dict[str, str]:
    spec = FIELDS[type_] if type_ != "assortment" else {
        **FIELDS["product"], **FIELDS["variant"], "type": "str"}
    kinds = {k: v for k, v in spec.items() if v in _SCALAR or v.startswith("ref:")}
    kinds.update(id="id", updated="dt", created="dt")
    if type_ in ("product", "service", "productfolder", "assortment"):
        kinds["pathName"] = "str"
    if type_ in ("product", "service", "variant", "assortment"):
        kinds["barcode"] = "barcode"
    if "state" in spec:
        kinds["state.name"] = "statename"
    if type_ == "variant":
        kinds["productid"] = "id"
    return kinds


class Condition:
    __slots__ = ("field", "kind", "equal", "unequal", "ranges", "likes")

    def __init__(self, field, kind):
        self.field = field
        self.kind = kind
        self.equal: list = []
        self.unequal: list = []
        self.ranges: list = []  # (op, value), the first per operator kept
        self.likes: list = []  # (op, lowered text)


def _convert(field: str, kind: str, op: str, text: str):
    if text == "" and op in ("=", "!="):
        return None
    if kind == "bool":
        if text not in ("true", "false"):
            raise MsError(400, 1014, f"Неверное значение '{text}' параметра фильтрации "
                                     f"'{field}'", field)
        return text == "true"
    if kind in ("num", "int"):
        try:
            return float(text)
        except ValueError:
            raise MsError(400, 1014, f"Неверное значение '{text}' параметра фильтрации "
                                     f"'{field}'", field) from None
    if kind == "dt":
        moment = parse_moment(text)
        if moment is None:
            raise MsError(400, 1035, "Ошибка фильтрации: неверный формат даты параметра "
                                     "фильтрации", field)
        return moment
    if kind in ("id", "uuid"):
        if not UUID_RE.fullmatch(text):
            raise MsError(400, 1014, f"Неверное значение '{text}' параметра фильтрации "
                                     f"'{field}'", field)
        return text.lower()
    if kind.startswith("ref:"):
        match = re.search(r"/([0-9a-fA-F-]{36})/?$", text)
        if match is None:
            raise MsError(400, 1014, f"Неверное значение '{text}' параметра фильтрации "
                                     f"'{field}'", field)
        return match.group(1).lower()
    return text


def parse_filter(type_: str, text: str) -> list[Condition]:
    kinds = field_kinds(type_)
    conditions: dict[str, Condition] = {}
    for part in _SPLIT.split(text):
        if not part.strip():
            continue
        part = part.replace("\\;", ";")
        match = _CONDITION.match(part)
        if match is None:
            raise filter_error(f"неверное условие '{part}'")
        field, op, raw = match.groups()
        kind = kinds.get(field)
        if kind is None:
            raise filter_error(f"неизвестное поле фильтрации '{field}'", field)
        cond = conditions.setdefault(field, Condition(field, kind))
        if op in ("~", "~=", "=~"):
            if kind not in ("str", "text", "barcode", "statename"):
                raise filter_error(f"оператор '{op}' неприменим к полю '{field}'", field)
            cond.likes.append((op, raw.lower()))
            continue
        value = _convert(field, kind, op, raw)
        if op in (">", "<", ">=", "<="):
            if kind in ("bool", "id", "barcode", "statename") or kind.startswith("ref:"):
                raise filter_error(f"оператор '{op}' неприменим к полю '{field}'", field)
            if value is None:
                raise MsError(400, 1014, f"Неверное значение '' параметра фильтрации "
                                         f"'{field}'", field)
            if cond.equal:
                raise filter_error(f"условие равенства и неравенства на поле '{field}'", field)
            if op not in {o for o, _v in cond.ranges}:
                cond.ranges.append((op, value))
        elif op == "=":
            if cond.ranges:
                raise filter_error(f"условие равенства и неравенства на поле '{field}'", field)
            cond.equal.append(value)
        else:
            cond.unequal.append(value)
    return list(conditions.values())


def _value(store, record: dict, cond: Condition):
    field = cond.field
    if field == "barcode":
        return [next(iter(b.values())).lower() for b in record.get("barcodes") or ()]
    if field == "pathName":
        return store.path_name(record)
    if field == "type":
        return record["_type"]
    if field == "productid":
        return record["product"].id
    if field == "state.name":
        state = record.get("state")
        return store.db["state"].get(state.id, {}).get("name") if state else None
    value = record.get(field)
    if isinstance(value, Ref):
        return value.id
    if field == "id":
        return record["id"]
    if cond.kind in ("num", "int") and value is not None:
        return float(value)
    if cond.kind == "bool" and value is None:
        return False
    return value


def _like(op: str, pattern: str, value) -> bool:
    values = value if isinstance(value, list) else [value]
    for item in values:
        text = str(item).lower() if item is not None else ""
        if (op == "~" and pattern in text) or (op == "~=" and text.startswith(pattern)) or (
                op == "=~" and text.endswith(pattern)):
            return True
    return False


def _equal_ok(cond: Condition, value) -> bool:
    many = isinstance(value, list)
    for wanted in cond.equal:
        if wanted is None:
            ok = not value if many else value in (None, "")
        elif many:
            ok = str(wanted).lower() in value
        elif cond.kind in ("str", "text", "statename"):
            ok = value == wanted
        else:
            ok = (value.lower() if isinstance(value, str) else value) == wanted
        if ok:
            return True
    return False


def _unequal_ok(cond: Condition, value) -> bool:
    many = isinstance(value, list)
    for unwanted in cond.unequal:
        if unwanted is None:
            if value in (None, "", []):
                return False
        elif many:
            if str(unwanted).lower() in value:
                return False
        elif (value.lower() if isinstance(value, str) and cond.kind not in ("str", "text")
              else value) == unwanted:
            return False
    return True


def _range_ok(cond: Condition, value) -> bool:
    for op, bound in cond.ranges:
        if value is None:
            return False
        if (op == ">" and not value > bound) or (op == "<" and not value < bound) or (
                op == ">=" and not value >= bound) or (op == "<=" and not value <= bound):
            return False
    return True


def matches(store, record: dict, conditions: list[Condition]) -> bool:
    for cond in conditions:
        value = _value(store, record, cond)
        if cond.equal and not _equal_ok(cond, value):
            return False
        if not _unequal_ok(cond, value) or not _range_ok(cond, value):
            return False
        for op, pattern in cond.likes:
            if not _like(op, pattern, value):
                return False
    return True


def search_words(record: dict) -> set[str]:
    words = set()
    for field in _SEARCH_FIELDS:
        value = record.get(field)
        if isinstance(value, str):
            lowered = value.lower()
            words.update(_WORD.findall(lowered))
            words.update(lowered.split())
    for barcode in record.get("barcodes") or ():
        words.update(str(v).lower() for v in barcode.values())
    return words


def search_matches(record: dict, query_words: list[str]) -> bool:
    words = search_words(record)
    return all(any(w.startswith(q) for w in words) for q in query_words)


def parse_order(type_: str, text: str) -> list[tuple[str, bool]]:
    kinds = field_kinds(type_)
    order = []
    for part in text.split(";"):
        if not part.strip():
            continue
        field, _, direction = part.partition(",")
        field = field.strip()
        direction = direction.strip().lower() or "asc"
        if field not in kinds or kinds[field] in ("barcode", "statename") or direction not in (
                "asc", "desc"):
            raise MsError(400, 1063, f"Ошибка сортировки: неизвестное поле '{field}' или "
                                     "сортировка для данного поля не поддерживается", "order")
        order.append((field, direction == "desc"))
    return order


def sort_records(store, records: list[dict], order: list[tuple[str, bool]]) -> list[dict]:
    for field, descending in reversed(order):
        def key(record, field=field):
            value = record.get(field) if field != "pathName" else store.path_name(record)
            if isinstance(value, Ref):
                value = value.id
            return (value is None, value if value is not None else 0)
        records.sort(key=key, reverse=descending)
    return records


def page_params(request) -> tuple[int, int]:
    values = {}
    for name, default, low, high in (("limit", 1000, 1, 1000), ("offset", 0, 0, None)):
        raw = request.query.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            bounds = f"от {low} до {high}" if high is not None else f"не меньше {low}"
            raise MsError(400, 1040, f"Неверно заданы параметры запроса: значение параметра "
                                     f"'{name}' должно быть {bounds}", name)
        values[name] = number
    return values["limit"], values["offset"]


def expand_of(request, limit: int) -> frozenset:
    raw = request.query.get("expand", "")
    if not raw or limit > 100:
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def filter_text(request) -> str:
    return ";".join(value for name, value in request.query_items() if name == "filter")


def page_href(request, path: str, limit: int, offset: int) -> str:
    items = [(k, v) for k, v in request.query_items() if k not in ("limit", "offset")]
    items += [("limit", str(limit)), ("offset", str(offset))]
    return f"{ROOT}/{path}?{urlencode(items, quote_via=quote, safe='=;,:<>!~')}"


def list_meta(request, path: str, type_: str, size: int, limit: int, offset: int) -> dict:
    items = [(k, v) for k, v in request.query_items()]
    query = urlencode(items, quote_via=quote, safe="=;,:<>!~")
    out = {"href": f"{ROOT}/{path}" + (f"?{query}" if query else ""),
           "type": type_, "mediaType": "application/json", "size": size, "limit": limit,
           "offset": offset}
    if type_ in FIELDS:
        out["metadataHref"] = f"{ROOT}/{path}/metadata"
    if offset + limit < size:
        out["nextHref"] = page_href(request, path, limit, offset + limit)
    if offset > 0:
        out["previousHref"] = page_href(request, path, limit, max(0, offset - limit))
    return out
