"""UDOMA's error answers in plain words.

The document names its errors by a string code and an HTTP status (400 or 403) but shows no
error body. The client reads the code from the body's ``code`` (also ``error`` or ``errorCode``,
or a bare JSON string), the service's text from ``message``/``description``/``detail`` when they
are text, and the items concerned from ``detail`` when it names them (see ``error_items``).

Every error raised from a UDOMA answer is a subclass of the shared ApiError hierarchy (so the
engine's classification by ``code`` keeps working) and carries:

- ``service_code``: UDOMA's code ("api.key.not.found", …), '' when the answer had none;
- ``detail``: UDOMA's own text (redacted by the client, cut to 500 characters);
- ``run_level``: True where the whole run must stop (the key, the rate limit).

``code`` (the string the Odoo layer words for users) is a shared one (``auth``, ``rejected``,
``rate_limited``, ``unavailable``, ``bad_response``) or, where the user must act differently:
``api_key_refused`` (the key is wrong or was regenerated; an AuthError, run-level),
``shop_not_found`` (a shop id not bound in UDOMA; ``shop_source_id`` names it; stops that shop's
push only), ``duplicate_ids``, ``duplicate_barcodes``, ``group_not_found``,
``group_has_subgroups`` (item-level: the client maps them to the items and sends the rest) and
``invalid_json`` (a required field missing: a bug or a bad item, never retried). A 4xx other
than 400, 401, 403 and 429 (404 wrong address, 415…) is a run-level UdomaRejected: every request
would fail alike.
"""

from .errors import AuthError, BadResponse, RateLimited, RequestRejected, ServiceUnavailable
from .etm_data import text
from .udoma_data import (
    CODE_BARCODE_DOUBLES,
    CODE_DOUBLES,
    CODE_EMPTY_KEY,
    CODE_GROUP_HAS_CHILDREN,
    CODE_GROUP_NOT_FOUND,
    CODE_INVALID_JSON,
    CODE_KEY_NOT_FOUND,
    CODE_SHOP_NOT_FOUND,
    id_text,
    shown,
)

MAX_DETAIL = 500


class UdomaErrorMixin:
    """What every UDOMA error carries besides the ApiError fields (see the module docstring)."""

    run_level = False

    def _udoma_init(self, service_code="", items=()):
        self.service_code = service_code or ""
        # sourceSystemIds / barcodes / group ids UDOMA named in the answer ([] when none).
        self.items = list(items or ())


def _udoma(base, name, doc, **attributes):
    def __init__(self, message, *, service_code="", items=(), **kwargs):
        base.__init__(self, message, **kwargs)
        self._udoma_init(service_code, items)

    namespace = {"__doc__": doc, "__init__": __init__, **attributes}
    return type(name, (UdomaErrorMixin, base), namespace)


UdomaAuthError = _udoma(
    AuthError,
    "UdomaAuthError",
    "No API key was sent (empty.api.key.not.allowed), or a 401/403 without a code.",
    run_level=True,
)
ApiKeyRefused = _udoma(
    AuthError,
    "ApiKeyRefused",
    "The API key is wrong or out of date (403 api.key.not.found): regenerating the key in "
    "UDOMA invalidates the old one.",
    code="api_key_refused",
    run_level=True,
)
UdomaRejected = _udoma(RequestRejected, "UdomaRejected", "UDOMA refused the request (HTTP 4xx).")
InvalidJson = _udoma(
    RequestRejected,
    "InvalidJson",
    "Required fields missing, or a body UDOMA could not read (400 invalid.json or no code).",
    code="invalid_json",
)
DuplicateIds = _udoma(
    RequestRejected,
    "DuplicateIds",
    "Items with the same sourceSystemId in one request (nomenclature.doubles).",
    code="duplicate_ids",
)
DuplicateBarcodes = _udoma(
    RequestRejected,
    "DuplicateBarcodes",
    "Items with the same barCode (nomenclature.barcode.doubles).",
    code="duplicate_barcodes",
)
GroupNotFound = _udoma(
    RequestRejected,
    "GroupNotFound",
    "An item's groupSourceSystemId is unknown to UDOMA (…group.source.system.id.not.found).",
    code="group_not_found",
)
GroupHasSubgroups = _udoma(
    RequestRejected,
    "GroupHasSubgroups",
    "An item's group has sub-groups (nomenclature.group.parent.source.system.id).",
    code="group_has_subgroups",
)
UdomaRateLimited = _udoma(
    RateLimited, "UdomaRateLimited", "HTTP 429 after the retries.", run_level=True
)
UdomaUnavailable = _udoma(
    ServiceUnavailable, "UdomaUnavailable", "HTTP 5xx, timeouts, connection errors (retried)."
)
UdomaBadResponse = _udoma(
    BadResponse, "UdomaBadResponse", "An answer that is malformed or not what the document says."
)


class ShopNotFound(UdomaErrorMixin, RequestRejected):
    """UDOMA has no shop bound to this shopSourceSystemId (shop.not.found.by.source.system.id).
    ``shop_source_id`` names the shop to fix (bind it in UDOMA's integration settings, or fix
    the id on the connection). Stops that shop's push, not the others'."""

    code = "shop_not_found"

    def __init__(self, message, *, shop_source_id="", service_code="", items=(), **kwargs):
        super().__init__(message, **kwargs)
        self._udoma_init(service_code, items)
        self.shop_source_id = shop_source_id or ""


ITEM_ERRORS = {
    CODE_DOUBLES: DuplicateIds,
    CODE_BARCODE_DOUBLES: DuplicateBarcodes,
    CODE_GROUP_NOT_FOUND: GroupNotFound,
    CODE_GROUP_HAS_CHILDREN: GroupHasSubgroups,
}

PLAIN_WORDS = {
    CODE_EMPTY_KEY: "No API key was sent to UDOMA: enter the key on the connection",
    CODE_KEY_NOT_FOUND: (
        "UDOMA refused the API key: it is wrong, or it was regenerated in UDOMA's integration "
        "settings (a new key makes the old one invalid). Copy the current key from UDOMA "
        "(Integration settings) to the connection"
    ),
    CODE_INVALID_JSON: "UDOMA refused the request: required fields are missing",
    CODE_DOUBLES: "UDOMA refused the request: several items have the same id (sourceSystemId)",
    CODE_BARCODE_DOUBLES: "UDOMA refused the request: several items have the same barcode",
    CODE_GROUP_NOT_FOUND: "UDOMA does not know the group (groupSourceSystemId) of an item",
    CODE_GROUP_HAS_CHILDREN: (
        "An item's group has sub-groups in UDOMA; a group holds either items or sub-groups, "
        "never both"
    ),
}


def _strings(value, keys):
    """Texts found in ``value``: itself if a string, list elements, dict values under ``keys``
    (and lists of dicts with such keys), one level deep."""
    found = []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        found.append(id_text(value))
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, dict):
                found.extend(id_text(element.get(key)) for key in keys if element.get(key))
            else:
                found.append(id_text(element))
    elif isinstance(value, dict):
        for key in keys:
            found.extend(_strings(value.get(key), keys) if value.get(key) is not None else ())
    return [item for item in found if item]


ITEM_KEYS = (
    "sourceSystemId", "sourceSystemIds", "nomenclatureSourceSystemId", "barCode", "barCodes",
    "barcode", "barcodes", "groupSourceSystemId", "groupSourceSystemIds", "items", "ids",
    "nomenclatures", "doubles",
)  # fmt: skip


def error_parts(document):
    """(code, text, items) of an error answer: UDOMA's code ('' when none), its own text ('' when
    none) and the ids it names in ``detail`` (see module docstring)."""
    if isinstance(document, str):
        return (document.strip(), "", [])
    if not isinstance(document, dict):
        return ("", "", [])
    code = ""
    for key in ("code", "error", "errorCode"):
        if isinstance(document.get(key), str) and document[key].strip():
            code = document[key].strip()
            break
    words = []
    for key in ("message", "description", "errorMessage", "title"):
        if isinstance(document.get(key), str) and document[key].strip():
            words.append(document[key].strip())
    detail = document.get("detail")
    if isinstance(detail, str) and detail.strip():
        words.append(detail.strip())
    elif isinstance(detail, dict) and isinstance(detail.get("message"), str):
        words.append(detail["message"].strip())
    items = _strings(detail, ITEM_KEYS) if detail is not None and not isinstance(detail, str) \
        else []  # fmt: skip
    return (code, "; ".join(dict.fromkeys(words)), list(dict.fromkeys(items)))


def build_error(status, document, *, redact=str, what="", shop_source_id="", retry_after=None):
    """The typed error for an answer with HTTP ``status`` and parsed ``document`` (None when the
    body was empty or not JSON). ``what`` names the call ("v1/import-nomenclature");
    ``shop_source_id``: the shop the request was about (named by ShopNotFound)."""
    code, words, items = error_parts(document)
    detail = redact(words)[:MAX_DETAIL]
    where = f" ({what})" if what else ""
    tag = f" [{code}]" if code else f" [HTTP {status}]"
    options = {"status": status, "detail": detail, "service_code": code, "items": items}
    if code == CODE_KEY_NOT_FOUND:
        return ApiKeyRefused(PLAIN_WORDS[code] + tag, **options)
    if code == CODE_EMPTY_KEY or (status in (401, 403) and not code):
        words = PLAIN_WORDS[CODE_EMPTY_KEY] if code else "UDOMA refused the API key"
        return UdomaAuthError(words + where + tag, **options)
    if code == CODE_SHOP_NOT_FOUND:
        shop = shop_source_id or (items[0] if items else "")
        return ShopNotFound(
            f"UDOMA has no shop bound to the id '{shown(shop)}': bind it in UDOMA's integration "
            "settings (or fix the shop's id on the connection)" + tag,
            shop_source_id=shop,
            **options,
        )
    if code in ITEM_ERRORS:
        return ITEM_ERRORS[code](PLAIN_WORDS[code] + where + tag, **options)
    if code == CODE_INVALID_JSON or (status == 400 and not code):
        return InvalidJson(PLAIN_WORDS[CODE_INVALID_JSON] + where + tag, **options)
    if status == 429:
        return UdomaRateLimited(f"Too many requests to UDOMA{where}{tag}", retry_after=retry_after,
                                **options)  # fmt: skip
    if status is not None and status >= 500:
        return UdomaUnavailable(f"UDOMA answered HTTP {status}{where}{tag}", **options)
    if status in (401, 403):
        return UdomaAuthError(f"UDOMA refused the API key{where}{tag}", **options)
    said = f" ({text(code)})" if code else ""
    if status in (404, 405):
        error = UdomaRejected(
            f"UDOMA has no such address{where}{said} [HTTP {status}]: check the API URL and "
            "version on the connection", **options)  # fmt: skip
    else:
        error = UdomaRejected(f"UDOMA refused the request{where}{said} [HTTP {status}]",
                              **options)  # fmt: skip
    # Any 4xx but 400 (wrong address, method, media type…) fails every request alike.
    error.run_level = status != 400
    return error
