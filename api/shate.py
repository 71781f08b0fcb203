"""Shate-M Plus client (https://api.shate-m.ru, paths /api/v1/...): articles, offers, cart, orders.

ShateClient is this module's session and call protocol (login, token reuse, 401 handling, error
mapping) composed with one mixin per concern: :mod:`.shate_catalogue` (articles, prices and the
price budget), :mod:`.shate_orders` (cart and orders), :mod:`.shate_reference` (reference lists and
pictures). Answers are parsed into the dataclasses of :mod:`.shate_data`.

Decisions where the document (revision 1.2.3) is silent or contradicts itself, and what the field
notes (shared/api-docs/FIELD-NOTES.md) changed (each concern's module has its own):

- URL: ``base_url`` is the host root; a trailing ``/api/v1`` is accepted and dropped, so the
  ``.by``/``.kz`` hosts, proxies and the local emulator are all a URL away.
- Login: API key preferred when set: ``POST /api/v1/auth/loginByapiKey`` (the document's path
  spelling; notes also see ``loginbyapikey``) with the form field ``apikey`` (document; notes say
  ``ApiKey`` works too). Else ``POST /api/v1/auth/login`` with form fields ``Login``/``Password``
  (the document's table spelling). The token's lifetime is ``expires_in`` (3600 in the document,
  1800 seen live; ``token_ttl`` when absent); it is reused across runs through ``session_state``
  until ``token_margin`` (120 s) before it expires. ``refresh_token`` comes back empty in the
  document: the client logs in again instead.
- Auth failures: HTTP 400/401/403 on a login means the credentials were rejected: no new login
  for ``login_retry_delay`` (1 h; suppliers block accounts that keep sending bad credentials),
  LoginBlocked without a request meanwhile. 5xx/timeouts at login are the service's fault (no
  block). A 401 on any call: one re-login and one repeat; a second 401 raises SessionExpired, and
  a forced re-login is not repeated within ``min_login_interval`` (never a loop). A 401 is answered
  before the request is processed, so even an order is repeated safely after it.
- Names: JSON bodies and query parameters are camelCase, as in every JSON example of the document
  (its tables mix PascalCase and camelCase; the service binds names case-insensitively).
- The document's examples are not valid JSON in places (missing commas, an unquoted ``priceId``,
  a Cyrillic "с" in ``сanReturn``); parsing is tolerant of the latter, and of a single object where
  a list is expected (trademarks, customer info) and of list wrappers ({"items": [...]}).
"""

from typing import ClassVar

from .base import HttpClient
from .errors import (
    AuthError,
    BadResponse,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
)
from .etm_data import text, to_int
from .session import SessionClientMixin
from .shate_catalogue import (
    ARTICLE_BATCH_SIZE,
    BUDGET_UNITS,
    PRICE_BATCH_SIZE,
    PRICE_SHAPES,
    ShateCatalogueMixin,
)
from .shate_convert import API, MALFORMED
from .shate_orders import ShateOrdersMixin
from .shate_reference import ShateReferenceMixin

__all__ = ["SHATE_DEFAULT_URL", "SHATE_HOSTS", "ShateClient"]

SHATE_DEFAULT_URL = "https://api.shate-m.ru"
SHATE_HOSTS = ("shate-m.ru", "shate-m.by", "shate-m.com", "shate-m.kz")
REJECTED_LOGIN_HTTP = (400, 401, 403)
MAX_DETAIL = 500


def _root_url(base_url):
    url = (base_url or SHATE_DEFAULT_URL).strip().rstrip("/")
    if url.lower().endswith("/" + API):
        url = url[: -len(API) - 1]
    return url


class ShateClient(
    ShateCatalogueMixin, ShateOrdersMixin, ShateReferenceMixin, SessionClientMixin, HttpClient
):
    service_name = "Shate-M"
    secret_params = ("apikey", "password", "access_token", "refresh_token", "token")
    default_headers: ClassVar[dict] = {"Accept": "application/json"}

    def __init__(
        self,
        *,
        api_key=None,
        login=None,
        password=None,
        base_url=SHATE_DEFAULT_URL,
        session_state=None,
        token_margin=120,
        token_ttl=3600,
        login_retry_delay=3600,
        min_login_interval=120,
        price_budget=None,
        price_budget_unit="article",
        price_request_shape="array",
        price_batch_size=PRICE_BATCH_SIZE,
        article_batch_size=ARTICLE_BATCH_SIZE,
        agreement_code=None,
        delivery_address_code=None,
        service_utc_offset=3,
        allowed_hosts=SHATE_HOSTS,
        **http_options,
    ):
        super().__init__(_root_url(base_url), **http_options)
        if price_request_shape not in PRICE_SHAPES:
            raise ValueError(f"price_request_shape must be one of {PRICE_SHAPES}")
        if price_budget_unit not in BUDGET_UNITS:
            raise ValueError(f"price_budget_unit must be one of {BUDGET_UNITS}")
        self._api_key = text(api_key)
        self._login_name = text(login)
        self._password = password or ""
        self.token_ttl = int(token_ttl or 3600)
        self.price_budget = price_budget
        self.price_budget_unit = price_budget_unit
        self.price_request_shape = price_request_shape
        self.price_batch_size = max(1, int(price_batch_size or PRICE_BATCH_SIZE))
        self.article_batch_size = max(1, int(article_batch_size or ARTICLE_BATCH_SIZE))
        self.agreement_code = text(agreement_code) or None
        self.delivery_address_code = text(delivery_address_code) or None
        self.service_utc_offset = float(service_utc_offset or 0)
        self.allowed_hosts = tuple(allowed_hosts or ())
        # Filled by get_locations(): offers then carry their location's name.
        self.location_names = {}
        self._init_session(
            session_state,
            ttl=self.token_ttl,
            retry_delay=login_retry_delay,
            min_interval=min_login_interval,
            margin=token_margin,
        )

    def _secret_values(self):
        return (self._api_key, self._password, *self._tokens)

    # -- token ------------------------------------------------------------------------------
    def login(self, forced=False):
        """Get a new token (API key first); LoginBlocked/SessionExpired when a login is unwise.

        ``forced``: the service refused the current token (see ``LoginGuard.check_allowed``).
        """
        if self._api_key:
            path, form, how = f"{API}/auth/loginByapiKey", {"apikey": self._api_key}, "API key"
        elif self._login_name and self._password:
            form = {"Login": self._login_name, "Password": self._password}
            path, how = f"{API}/auth/login", "login and password"
        else:
            # Not worth a request: empty credentials would only count as a rejected attempt.
            raise AuthError("No Shate-M API key, or login and password, is configured")
        self._guard.check_allowed(forced=forced)
        response = self._request("POST", path, data=form, endpoint="login")
        status = response.status_code
        if status in REJECTED_LOGIN_HTTP:
            detail = self._error_detail(response)
            until = self._guard.record_rejection()
            raise AuthError(
                f"Shate-M rejected the {how} (HTTP {status}); no new attempt before "
                f"{until:%Y-%m-%d %H:%M} UTC",
                status=status,
                detail=detail,
            )
        if not 200 <= status < 300:
            response.close()
            raise BadResponse(f"Unexpected HTTP {status} from the Shate-M login", status=status)
        body = self.json_or_raise(response, "a JSON token answer")
        token = text(body.get("access_token")) if isinstance(body, dict) else ""
        if not token:
            raise BadResponse("The Shate-M login answer has no access_token", status=status)
        self._remember(token)
        ttl = to_int(body.get("expires_in"))
        self._guard.record_success(token, ttl=ttl if ttl and ttl > 0 else None, forced=forced)
        return token

    def ensure_token(self):
        """The saved token while valid (``token_margin`` before expiry), else a fresh login."""
        return self._guard.usable_token() or self.login()

    ensure_session = ensure_token  # the name the other clients use

    # -- the call protocol --------------------------------------------------------------------
    def _call(self, method, path, *, endpoint, params=None, json=None, retries=None, once=False):
        """Send with the bearer token; on a 401 log in again once and repeat once.

        ``once``: a non-idempotent request (no retries; a lost answer raises OutcomeUnknown).
        Returns the response of any other status, unchecked.
        """
        options = {"params": params, "json": json, "endpoint": endpoint, "retries": retries}
        if once:
            options["retries"] = 0
        token = self.ensure_token()
        response = self._send(method, path, token, once, options)
        if response.status_code == 401:
            response.close()
            self._guard.invalidate()
            token = self.login(forced=True)
            response = self._send(method, path, token, once, options)
            if response.status_code == 401:
                response.close()
                self._guard.invalidate()
                raise SessionExpired("Shate-M refused a freshly issued token", status=401)
        return response

    def _send(self, method, path, token, once, options):
        headers = {"Authorization": f"Bearer {token}"}
        if not once:
            return self._request(method, path, headers=headers, **options)
        failure = None
        try:
            return self._request(method, path, headers=headers, **options)
        except ServiceUnavailable as exc:
            failure = exc
        if not failure.retryable:  # TLS or URL failure: nothing reached the service
            raise failure
        raise OutcomeUnknown(
            f"No answer to the Shate-M {options['endpoint']} request ({failure.message}); it may "
            "have been processed: look it up before sending it again",
            status=failure.status,
        )

    def _checked_json(self, method, path, *, endpoint, params=None, json=None, retries=None):
        response = self._call(
            method, path, endpoint=endpoint, params=params, json=json, retries=retries
        )
        self._raise_for_status(response, endpoint)
        if not response.content.strip():
            return None
        return self.json_or_raise(response, f"a JSON {endpoint} answer")

    def _get(self, path, *, endpoint, params=None):
        return self._checked_json("GET", path, endpoint=endpoint, params=params)

    def _raise_for_status(self, response, endpoint):
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = self._error_detail(response)
        if status == 404:
            raise NotFound(
                f"Shate-M found nothing for the {endpoint} request", status=404, detail=detail
            )
        if status == 403:
            raise RequestRejected(
                f"Shate-M does not allow the {endpoint} request for this account (HTTP 403): "
                "ask the Shate-M manager to enable it",
                status=403,
                detail=detail,
            )
        if status == 429:
            raise RateLimited(f"Shate-M is rate limiting the {endpoint} requests", status=429)
        if 400 <= status < 500:
            raise RequestRejected(
                f"Shate-M rejected the {endpoint} request (HTTP {status})",
                status=status,
                detail=detail,
            )
        raise BadResponse(
            f"Unexpected HTTP {status} in the Shate-M {endpoint} answer",
            status=status,
            detail=detail,
        )

    def _body(self, response):
        """Parsed JSON body, None when empty, MALFORMED when not JSON. Never raises."""
        content = response.content
        response.close()
        if not content.strip():
            return None
        try:
            return self.parse_json(content)
        except BadResponse:
            return MALFORMED

    def _error_detail(self, response):
        """The service's own words from an error body ({code, description, messages},
        ASP.NET problem details, OAuth errors), redacted and cut short."""
        body = self._body(response)
        parts = []
        if isinstance(body, dict):
            for key in ("code", "error", "title", "description", "error_description", "detail"):
                value = body.get(key)
                if isinstance(value, (str, int)) and text(value):
                    parts.append(text(value))
            for key in ("messages", "errors"):
                value = body.get(key)
                if isinstance(value, dict):
                    value = [item for items in value.values() for item in (
                        items if isinstance(items, list) else [items])]  # fmt: skip
                if isinstance(value, list):
                    parts.extend(text(item) for item in value if text(item))
        elif isinstance(body, list):
            parts.extend(text(item) for item in body if text(item))
        detail = self.redact(" ".join(dict.fromkeys(parts)))
        return detail[:MAX_DETAIL]
