"""MoySklad's ``{"errors": [{"error", "code", "parameter", "moreInfo", ...}]}`` in plain words.

Every error raised from a MoySklad answer is a subclass of the shared ApiError hierarchy (so the
engine's classification by ``code`` keeps working) and carries:

- ``service_code``: MoySklad's numeric code (1056, 1021, 30006...), None when the body had none;
- ``parameter``: the parameter or field MoySklad named, '' when none;
- ``detail``: MoySklad's own text (redacted by the client, cut to 500 characters);
- ``errors``: every error object of the answer, as ``MsErrorEntry`` (plain data).

``code`` (the string the Odoo layer words for users) is one of the shared codes (``auth``,
``not_found``, ``rejected``, ``rate_limited``, ``unavailable``, ``already_exists``,
``login_blocked``) except for three situations the user must act on differently:
``no_api_access`` (1061: the MoySklad user has no API access), ``plan_required`` (30006 and
1043/1070: the MoySklad plan does not allow it) and ``circuit_open`` (this client stopped the run
itself before MoySklad switches the account's API off). The two first are AuthError /
RequestRejected subclasses, the last a RateLimited subclass: ``isinstance`` checks keep working.
``run_level`` is True where the whole run must stop (auth, access, plan, rate, circuit).
"""

from dataclasses import dataclass

from .errors import (
    AlreadyExists,
    AuthError,
    LoginBlocked,
    NotFound,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
)

MAX_DETAIL = 500

# Codes the document names, grouped by what the caller does about them.
AUTH_CODES = frozenset({1056, 1085})
NO_ACCESS_CODES = frozenset({1061})
LOGIN_LIMIT_CODES = frozenset({1048})
NOT_FOUND_CODES = frozenset({1021, 1008, 1020})
RATE_CODES = frozenset({1049, 1073})
PLAN_CODES = frozenset({30006, 1043, 1070})
UNIQUE_CODES = frozenset({3006, 30003})
MAINTENANCE_CODES = frozenset({1074, 1083, 1036})
FORBIDDEN_CODES = frozenset({1016, 1017, 1018, 1045, 1064, 1075, 30004})

# Plain English for the codes a user or developer meets; MoySklad's own text goes in ``detail``.
PLAIN_WORDS = {
    1002: "MoySklad does not know this address (unknown path): check the API URL",
    1005: "MoySklad does not know this entity type",
    1014: "MoySklad refused a filter value",
    1016: "The MoySklad user may not view these objects",
    1017: "The MoySklad user may not change these objects",
    1018: "The MoySklad user may not delete these objects",
    1021: "MoySklad has no such object (it may have been deleted)",
    1030: "A filter field was given more than once",
    1034: "MoySklad refused the filter",
    1035: "MoySklad refused a date in the filter (expected 'YYYY-MM-DD HH:MM:SS', Moscow time)",
    1043: "The MoySklad plan does not include this feature",
    1045: "The MoySklad user may not create these objects",
    1047: "The syncId of an existing object cannot be changed",
    1048: "Too many login attempts with wrong credentials: MoySklad refuses logins for a while",
    1049: "Too many requests to MoySklad in a short time (rate limit)",
    1052: "An identifier sent to MoySklad is not a valid UUID",
    1056: "MoySklad rejected the credentials (login, password or token)",
    1061: "This MoySklad user has no access to the API: an account administrator must allow it",
    1062: "MoySklad refused the Accept header (it must be 'application/json;charset=utf-8')",
    1065: "The object was changed by another request at the same time",
    1070: "The MoySklad plan does not allow this resource",
    1073: "Too many parallel requests to MoySklad",
    1074: "MoySklad is down for maintenance",
    1079: "The file is larger than MoySklad allows (10 MB)",
    1082: "At most 10 files can be uploaded in one request",
    1085: "This kind of MoySklad token carries no user: log in with a user's login and password",
    1088: "The bulk request took MoySklad too long: send fewer items per request",
    3000: "A required field is empty or missing",
    3006: "Another object already has this value, which must be unique",
    30003: "This webhook (entity, action, URL) exists already",
    30004: "Only a MoySklad administrator can manage webhooks",
    30005: "The webhook URL is not a valid address",
    30006: (
        "Webhooks need a paid MoySklad plan: on the free plan MoySklad neither creates webhooks "
        "nor sends them (error 30006); changes are picked up by the scheduled pulls instead"
    ),
    30007: "MoySklad allows at most 5 webhooks of one kind per entity type",
}

HTTP_WORDS = {
    400: "MoySklad rejected the request",
    401: "MoySklad rejected the credentials (login, password or token)",
    403: "The MoySklad user has no right to do this",
    404: "MoySklad has no such object or address",
    405: "MoySklad does not allow this method here",
    409: "The MoySklad object is in use and cannot be deleted",
    410: "This MoySklad API version is no longer supported",
    412: "A required parameter or field is missing",
    413: "The request holds too many items or is too large for MoySklad",
    414: "The request address is too long for MoySklad",
    415: (
        "MoySklad refused the request format (HTTP 415): it requires 'Accept-Encoding: gzip' "
        "and JSON bodies"
    ),
    429: "Too many requests to MoySklad (rate limit)",
}


@dataclass
class MsErrorEntry:
    """One object of MoySklad's ``errors`` array, as plain data."""

    message: str = ""
    code: int | None = None
    parameter: str = ""
    more_info: str = ""
    error_message: str = ""
    line: int | None = None
    column: int | None = None
    meta_href: str = ""


class MoySkladErrorMixin:
    """What every MoySklad error carries besides the ApiError fields (see module docstring)."""

    run_level = False

    def _ms_init(self, service_code=None, parameter="", errors=()):
        self.service_code = service_code
        self.parameter = parameter or ""
        self.errors = list(errors or ())


def _ms(base, name, doc, **attributes):
    def __init__(self, message, *, service_code=None, parameter="", errors=(), **kwargs):
        base.__init__(self, message, **kwargs)
        self._ms_init(service_code, parameter, errors)

    namespace = {"__doc__": doc, "__init__": __init__, **attributes}
    return type(name, (MoySkladErrorMixin, base), namespace)


MoySkladAuthError = _ms(
    AuthError, "MoySkladAuthError", "Credentials or token refused (401, 1056).", run_level=True
)
NoApiAccess = _ms(
    AuthError,
    "NoApiAccess",
    "The MoySklad user exists but may not use the API (1061).",
    code="no_api_access",
    run_level=True,
)
MoySkladLoginBlocked = _ms(
    LoginBlocked,
    "MoySkladLoginBlocked",
    "Too many wrong logins (1048), or a local pause after a rejected login.",
    run_level=True,
)
MoySkladNotFound = _ms(NotFound, "MoySkladNotFound", "No such object (1021, HTTP 404).")
MoySkladRejected = _ms(
    RequestRejected, "MoySkladRejected", "MoySklad refused the request itself (HTTP 4xx)."
)
UnknownPath = _ms(RequestRejected, "UnknownPath", "Unknown path (1002): a wrong API URL.")
BadFilter = _ms(
    RequestRejected, "BadFilter", "A filter, date or sort MoySklad refused (1014, 1034, 1035...)."
)
BadUuid = _ms(RequestRejected, "BadUuid", "An identifier that is not a UUID (1052).")
Forbidden = _ms(
    RequestRejected, "Forbidden", "The MoySklad user lacks the right (HTTP 403, 1016...)."
)
PlanRequired = _ms(
    RequestRejected,
    "PlanRequired",
    "The MoySklad plan does not allow it (30006 webhooks, 1043, 1070).",
    code="plan_required",
    run_level=True,
)
MoySkladAlreadyExists = _ms(
    AlreadyExists, "MoySkladAlreadyExists", "A unique value is taken already (3006)."
)
MoySkladRateLimited = _ms(
    RateLimited, "MoySkladRateLimited", "Rate or parallel limit (429: 1049, 1073).", run_level=True
)
MoySkladUnavailable = _ms(
    ServiceUnavailable, "MoySkladUnavailable", "5xx, maintenance (1074), after the retries."
)


class CircuitOpen(MoySkladErrorMixin, RateLimited):
    """This client stopped sending: too many failing or rate-limited requests in a minute.

    MoySklad switches an account's API off for an hour after 200 failing (or 429'd) requests a
    minute; the breaker stops the run long before that. ``retry_after``: seconds until it closes.
    """

    code = "circuit_open"
    run_level = True

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, retry_after=retry_after, **kwargs)
        self._ms_init()


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value):
    return value.strip() if isinstance(value, str) else ""


def error_entries(body):
    """The ``MsErrorEntry`` list of an error body (object with ``errors``, or a list of them);
    [] when the body holds none."""
    objects = body if isinstance(body, list) else [body]
    entries = []
    for item in objects:
        errors = item.get("errors") if isinstance(item, dict) else None
        if not isinstance(errors, list):
            continue
        for error in errors:
            if not isinstance(error, dict):
                continue
            meta = error.get("meta") if isinstance(error.get("meta"), dict) else {}
            entries.append(
                MsErrorEntry(
                    message=_text(error.get("error")),
                    code=_to_int(error.get("code")),
                    parameter=_text(error.get("parameter")),
                    more_info=_text(error.get("moreInfo")),
                    error_message=_text(error.get("error_message")),
                    line=_to_int(error.get("line")),
                    column=_to_int(error.get("column")),
                    meta_href=_text(meta.get("href")),
                )
            )
    return entries


def is_error_object(item):
    """True for a bulk answer's element that is an error (``{"errors": [...]}``, no meta)."""
    return isinstance(item, dict) and isinstance(item.get("errors"), list) and "meta" not in item


def _classify(status, code):
    """The exception class for an HTTP status and MoySklad code."""
    if code in NO_ACCESS_CODES:
        return NoApiAccess
    if code in LOGIN_LIMIT_CODES:
        return MoySkladLoginBlocked
    if code in AUTH_CODES or status == 401:
        return MoySkladAuthError
    if code in PLAN_CODES:
        return PlanRequired
    if code in RATE_CODES or status == 429:
        return MoySkladRateLimited
    if code in NOT_FOUND_CODES or (status == 404 and code is None):
        return MoySkladNotFound
    if code == 1002:
        return UnknownPath
    if code in {1014, 1030, 1032, 1034, 1035, 1041, 1042, 1063}:
        return BadFilter
    if code == 1052:
        return BadUuid
    if code in UNIQUE_CODES:
        return MoySkladAlreadyExists
    if code in FORBIDDEN_CODES or status == 403:
        return Forbidden
    if code in MAINTENANCE_CODES or (status is not None and status >= 500):
        return MoySkladUnavailable
    return MoySkladRejected


def build_error(status, entries, *, redact=str, what="", retry_after=None, blocked_until=None):
    """The typed error for an answer with ``status`` and ``entries`` (``error_entries``).

    ``what`` names the request ("GET entity/product") in the message; ``redact`` masks secrets
    in MoySklad's text. The first entry with a code decides the class and the words."""
    first = next((entry for entry in entries if entry.code is not None), None)
    first = first or (entries[0] if entries else MsErrorEntry())
    code = first.code
    cls = _classify(status, code)
    words = PLAIN_WORDS.get(code) or HTTP_WORDS.get(status) or "MoySklad refused the request"
    where = f" ({what})" if what else ""
    number = f"error {code}" if code is not None else f"HTTP {status}"
    message = f"{words}{where} [{number}]"
    texts = []
    for entry in entries:
        for part in (entry.message, entry.error_message):
            if part and part not in texts:
                texts.append(part)
    detail = redact("; ".join(texts))[:MAX_DETAIL]
    kwargs = {"status": status, "detail": detail, "service_code": code,
              "parameter": first.parameter, "errors": entries}  # fmt: skip
    if issubclass(cls, RateLimited):
        kwargs["retry_after"] = retry_after
    if issubclass(cls, LoginBlocked):
        kwargs["blocked_until"] = blocked_until
    return cls(message, **kwargs)
