"""ETM iPro client (https://ipro.etm.ru/api/v1): prices, remains, product cards, SgGds catalogue.

Decisions where the ETM document is silent or where working clients know better
(see shared/api-docs/FIELD-NOTES.md):

- Status: every answer carries ``status.code`` (200 ok, 400 error, 403 session, 404 not found);
  clients also see the HTTP status itself set to 403. Either 403 means "session expired": log in
  once more and repeat the call once; a second 403 raises SessionExpired, never a loop. An answer
  without ``status`` but with ``data`` is taken as 200. Other codes are BadResponse.
- Login throttling (suppliers block accounts that hammer login): never two logins within
  ``min_login_interval`` (120 s): a 403 right after a fresh login raises SessionExpired instead of
  logging in again. A *rejected* login (body status not 200, no session, HTTP 400/401/403) blocks
  further logins for ``login_retry_delay`` (1 h) and raises LoginBlocked without sending anything.
  A 5xx/timeout at login is the service's fault: ServiceUnavailable, no block.
- Session lifetime: the document says 2 h (``session_ttl``), reused until 60 s before expiry,
  across runs through ``session_state`` which the caller persists.
- Codes: ETM codes are sent without the "ETM" prefix ('ETM9536092' → '9536092'); results are
  keyed by the code as the caller passed it. Each code is percent-quoted, and codes are joined by
  a literal '%2C' in the path (requests leaves an existing escape alone). A code that cannot be
  sent safely (``etm_code_problem``: a comma or '%2C' would split it in two, empty, control
  characters, too long, an ETM code that is not digits) is never sent: ``get_prices`` leaves it
  out and lists it in ``refused_codes``; remains and goods raise RequestRejected.
- Prices: at most 50 codes per request (field notes), so larger batches are clamped. The answer is
  one object (doc, one code), a list of rows, or ``data.rows`` (field notes): all accepted. A row
  belongs to an asked code by its ``gdscode`` only, never by position nor because it is the only
  row. The document calls ``gdscode`` "Код товара", its name for ETM's own code in every answer
  (``gdsCode`` of a card, of related products), and the emulator answers so: asked by ETM code,
  the row must carry that code. Asked by client code or article, the row belongs to the code whose
  ETM code it carries: given by the caller (``etm_codes``, e.g. a mapping's external id) or, when
  rows are left over, learnt from the product card of each code not matched yet (one Goods
  request per such code, kept in ``known_etm_codes`` so the caller can store it). A row echoing
  the asked code itself is accepted too. Rows that match no asked code are ignored (debug log).
  Missing codes are absent from the result; a body 404 for a batch means none was found.
- Values: numbers may come as strings; a hidden price (Cyrillic "XXX") is None. Store types beyond
  rc/crs/op (rc2sum, all) are kept as given. Store dates are dd/mm/YYYY.
- Every GET carries ``type`` and ``session-id``; POSTs carry ``session-id`` only.
- SgGds job states: '0' created, '3' waiting for its start time, '1' done (file links in
  ``urls``), '2' failed (``msg``). Any other state is treated as still running.
- Downloads (images, the catalogue file) follow ``urls.check_download_url``: https to hosts on
  ``allowed_hosts`` ('etm.ru' covers its subdomains) or the API host itself; relative image links
  hang off the API origin, '//host/x' links get https. No session id is sent with downloads. The
  SgGds file (up to ``max_bytes``, within ``catalogue_deadline``) is streamed to a temporary file,
  parsed from there item by item, and the file removed.
"""

import logging
import tempfile
from urllib.parse import quote

from .base import HttpClient
from .errors import (
    AuthError,
    BadResponse,
    NotFound,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
)
from .etm_data import (
    EtmCatalogueItem,
    EtmGoods,
    EtmJob,
    EtmManufacturer,
    EtmPrice,
    EtmRemains,
    EtmStore,
    etm_code_problem,
    match_price_rows,
    normalize_code,
    parse_catalogue_file,
    parse_goods,
    parse_job,
    parse_manufacturers,
    parse_price,
    parse_remains,
    price_rows,
    shown_code,
    text,
    to_int,
)
from .session import SessionClientMixin

__all__ = [
    "ETM_DEFAULT_URL",
    "EtmCatalogueItem",
    "EtmClient",
    "EtmGoods",
    "EtmJob",
    "EtmManufacturer",
    "EtmPrice",
    "EtmRemains",
    "EtmStore",
    "etm_code_problem",
]

_logger = logging.getLogger(__name__)

ETM_DEFAULT_URL = "https://ipro.etm.ru/api/v1"
CODE_TYPES = ("etm", "cli", "mnf")
MAX_PRICE_BATCH = 50
# The SgGds file can be large: it may take this many times the timeout in all.
CATALOGUE_DEADLINE_FACTOR = 20
CATALOGUE_REPORT = "40029846"  # the SgGds report id from the document
JOB_DONE, JOB_FAILED = "1", "2"
REJECTED_LOGIN_HTTP = (400, 401, 403)


def _quote(code):
    return quote(code, safe="")


class EtmClient(SessionClientMixin, HttpClient):
    service_name = "ETM iPro"
    secret_params = ("pwd", "log", "session-id")
    rate_limit_per_endpoint = True  # ETM counts ~1 request/s per endpoint group

    def __init__(
        self,
        *,
        login,
        password,
        base_url=ETM_DEFAULT_URL,
        code_type="etm",
        price_batch_size=MAX_PRICE_BATCH,
        session_state=None,
        session_ttl=7200,
        login_retry_delay=3600,
        min_login_interval=120,
        allowed_hosts=("etm.ru",),
        rate_limit=1.0,
        catalogue_deadline=None,
        **http_options,
    ):
        super().__init__(base_url or ETM_DEFAULT_URL, rate_limit=rate_limit, **http_options)
        self.catalogue_deadline = float(
            catalogue_deadline
            or max(self.download_deadline, CATALOGUE_DEADLINE_FACTOR * self.timeout)
        )
        # Codes the last get_prices left out, with the reason: {code as given: English sentence}.
        self.refused_codes = {}
        # ETM's own code of client codes / articles, learnt from product cards: {code: ETM code}.
        self.known_etm_codes = {}
        if code_type not in CODE_TYPES:
            raise ValueError(f"code_type must be one of {CODE_TYPES}")
        self._login_name = login or ""
        self._password = password or ""
        self.code_type = code_type
        self.price_batch_size = max(
            1, min(int(price_batch_size or MAX_PRICE_BATCH), MAX_PRICE_BATCH)
        )
        self.allowed_hosts = tuple(allowed_hosts or ())
        self._init_session(
            session_state,
            ttl=session_ttl,
            retry_delay=login_retry_delay,
            min_interval=min_login_interval,
        )

    def _secret_values(self):
        return (self._password, self._login_name, *self._tokens)

    def normalize_code(self, code):
        return normalize_code(code, self.code_type)

    # -- session ----------------------------------------------------------------------------
    def login(self, forced=False):
        """Log in, return the token; LoginBlocked/SessionExpired instead when a login is unwise.

        ``forced``: the service refused the current session (see ``LoginGuard.check_allowed``).
        """
        if not (self._login_name and self._password):
            # Not worth a request: an empty login would only count as a rejected attempt.
            raise AuthError("No ETM iPro login or password is configured")
        self._guard.check_allowed(forced=forced)
        response = self._request(
            "POST",
            "user/login",
            params={"log": self._login_name, "pwd": self._password},
            endpoint="login",
        )
        status, message, data = self._login_answer(response)
        token = text(data.get("session")) if isinstance(data, dict) else ""
        if status != 200 or not token:
            until = self._guard.record_rejection()
            raise AuthError(
                f"ETM iPro rejected the login (status {status}); no new attempt before "
                f"{until:%Y-%m-%d %H:%M} UTC",
                status=status,
                detail=message,
            )
        self._guard.record_success(token, forced=forced)
        self._remember(token)
        return token

    def _login_answer(self, response):
        if response.status_code in REJECTED_LOGIN_HTTP:
            return self._error_answer(response)
        if response.status_code >= 300:
            raise BadResponse(
                f"Unexpected HTTP {response.status_code} from the ETM iPro login",
                status=response.status_code,
            )
        body = self.json_or_raise(response, "a JSON login answer")
        status, message = self._body_status(body)
        return status, message, body.get("data")

    def ensure_session(self):
        """The saved token while it is valid (60 s margin), else a fresh login."""
        return self._guard.usable_token() or self.login()

    # -- the call protocol --------------------------------------------------------------------
    def _call(self, method, path, *, endpoint, params=None):
        """Send with the session, re-login once on a 403; return ``data`` of a 200 answer."""
        token = self.ensure_session()
        status, message, data = self._exchange(method, path, token, endpoint, params)
        if status == 403:
            self._guard.invalidate()
            token = self.login(forced=True)
            status, message, data = self._exchange(method, path, token, endpoint, params)
            if status == 403:
                self._guard.invalidate()
                raise SessionExpired(
                    "ETM iPro refused a freshly created session", status=403, detail=message
                )
        return self._data_or_raise(status, message, data, endpoint)

    def _data_or_raise(self, status, message, data, endpoint):
        if status == 200:
            return data
        if status == 400:
            raise RequestRejected(
                f"ETM iPro rejected the {endpoint} request", status=400, detail=message
            )
        if status == 404:
            raise NotFound(
                f"ETM iPro found nothing for the {endpoint} request", status=404, detail=message
            )
        raise BadResponse(
            f"Unexpected status {status} in the ETM iPro {endpoint} answer",
            status=status,
            detail=message,
        )

    def _exchange(self, method, path, token, endpoint, params):
        query = {"type": self.code_type} if method == "GET" else {}
        query["session-id"] = token
        query.update(params or {})
        response = self._request(method, path, params=query, endpoint=endpoint)
        if response.status_code >= 400:
            return self._error_answer(response)
        body = self.json_or_raise(response, f"a JSON {endpoint} answer")
        status, message = self._body_status(body)
        return status, message, body.get("data")

    def _error_answer(self, response):
        """An HTTP error: the body's status code when it has a meaningful one, else the HTTP one.

        HTTP 403 always wins: it is how some clients see an expired session.
        """
        body = self._json_or_none(response)
        status = body.get("status") if isinstance(body, dict) else None
        status = status if isinstance(status, dict) else {}
        code = to_int(status.get("code"))
        message = self.redact(text(status.get("message")))
        if response.status_code == 403 or code in (None, 200):
            code = response.status_code
        return code, message, None

    def _body_status(self, body):
        if not isinstance(body, dict):
            raise BadResponse("Expected a JSON object from ETM iPro")
        status = body.get("status")
        if isinstance(status, dict):
            code = to_int(status.get("code"))
            if code is None:
                raise BadResponse("The ETM iPro answer has no status code")
            return code, self.redact(text(status.get("message")))
        if "data" in body:
            return 200, ""
        raise BadResponse("The ETM iPro answer has neither status nor data")

    def _json_or_none(self, response):
        try:
            return self.json_or_raise(response)
        except BadResponse:
            return None

    # -- prices, remains, goods -----------------------------------------------------------
    def get_prices(self, codes, *, etm_codes=None):
        """Prices keyed by the caller's codes; codes ETM does not know are absent, and so are the
        codes that cannot be sent safely (see ``refused_codes``).

        ``etm_codes``: {code: ETM code} already known for client codes or articles (a mapping's
        external id); rows are matched by it first. See the module docstring.
        """
        self.refused_codes = {}
        callers = {}
        for code in codes:
            problem = etm_code_problem(code, self.code_type)
            if problem:
                self.refused_codes[code] = problem
            else:
                callers.setdefault(self.normalize_code(code), []).append(code)
        if self.refused_codes:
            _logger.warning(
                "ETM iPro: %d code(s) not sent: %s",
                len(self.refused_codes),
                "; ".join(f"{shown_code(c)}: {p}" for c, p in list(self.refused_codes.items())[:5]),
            )
        known = dict(self.known_etm_codes)
        for code, etm_code in (etm_codes or {}).items():
            if text(etm_code):
                known[self.normalize_code(code)] = normalize_code(etm_code, "etm")
        asked = list(callers)
        prices = {}
        for start in range(0, len(asked), self.price_batch_size):
            chunk = asked[start : start + self.price_batch_size]
            for normalized, row in self._price_chunk(chunk, known).items():
                for code in callers[normalized]:
                    prices[code] = parse_price(code, row)
        return prices

    def _price_chunk(self, chunk, known):
        """{asked code: its row} for one request of at most 50 codes."""
        path = "goods/{}/price".format("%2C".join(_quote(code) for code in chunk))
        try:
            rows = price_rows(self._call("GET", path, endpoint="price"))
        except NotFound:
            return {}
        matched, left = match_price_rows(rows, chunk, known, self.code_type)
        if self.code_type != "etm":
            for code in chunk:
                if not left:
                    break
                if code in matched or not self._learn_etm_code(code, known):
                    continue
                found, left = match_price_rows(left, [code], known, self.code_type)
                matched.update(found)
        for row in left:
            _logger.debug(
                "ETM iPro price row for %s matches no asked code: ignored",
                shown_code(text(row.get("gdscode"))),
            )
        return matched

    def _learn_etm_code(self, code, known):
        """ETM's own code of a client code / article, from its product card; False if none."""
        try:
            goods = self.get_goods(code)
        except (NotFound, RequestRejected):
            return False
        etm_code = normalize_code(goods.etm_code, "etm")
        articles = {text(goods.article).casefold(), text(goods.ext_article).casefold()} - {""}
        if self.code_type == "mnf" and articles and code.casefold() not in articles:
            _logger.debug("ETM iPro card for article %s names another article", shown_code(code))
            return False
        if not etm_code or etm_code_problem(etm_code, "etm"):
            return False
        known[code] = self.known_etm_codes[code] = etm_code
        return True

    def _code_path(self, code, suffix=""):
        problem = etm_code_problem(code, self.code_type)
        if problem:
            raise RequestRejected(
                f"The product code {shown_code(code)} cannot be sent to ETM iPro. {problem}"
            )
        return f"goods/{_quote(self.normalize_code(code))}{suffix}"

    def get_remains(self, code):
        data = self._call("GET", self._code_path(code, "/remains"), endpoint="remains")
        return parse_remains(code, data)

    def get_goods(self, code, *, manufacturer_code=None):
        """The product card; ``manufacturer_code`` narrows an article lookup (type 'mnf')."""
        params = {"mnf": manufacturer_code} if manufacturer_code else None
        data = self._call("GET", self._code_path(code), endpoint="goods", params=params)
        return parse_goods(code, data)

    def download_image(self, url, max_bytes=5_000_000):
        return self.download(
            url, max_bytes=max_bytes, allowed_hosts=self.allowed_hosts, endpoint="image"
        )

    def get_manufacturers(self):
        data = self._call("GET", "info/search/r-manuf/", endpoint="manufacturers")
        return parse_manufacturers(data)

    # -- SgGds catalogue ------------------------------------------------------------------
    def create_catalogue_job(self):
        data = self._call("POST", f"job/create/{CATALOGUE_REPORT}", endpoint="job")
        uuid = text(data.get("uuid")) if isinstance(data, dict) else ""
        if not uuid:
            raise BadResponse("The ETM iPro job answer has no uuid")
        return uuid

    def get_job(self, uuid):
        job = parse_job(uuid, self._call("GET", f"job/{_quote(uuid)}", endpoint="job"))
        if job is None:
            raise NotFound("ETM iPro does not know this catalogue job", status=404)
        return job

    def wait_for_job(self, uuid, *, poll_interval=10, timeout=3600):
        """Poll until done; RequestRejected when the job failed, ServiceUnavailable on timeout."""
        started, slept = self.clock(), 0.0
        while True:
            job = self.get_job(uuid)
            if job.state == JOB_DONE:
                return job
            if job.state == JOB_FAILED:
                raise RequestRejected(
                    "ETM iPro could not prepare the catalogue", detail=self.redact(job.message)
                )
            # Sleeps are counted too: an injected sleep does not move the clock.
            if max(self.clock() - started, slept) >= timeout:
                raise ServiceUnavailable("ETM iPro catalogue job still running")
            self.sleep(poll_interval)
            slept += poll_interval

    def download_catalogue(self, url, max_bytes=200_000_000, deadline=None):
        """The items of the SgGds file, streamed to a temporary file (never held whole in
        memory), parsed from there and the file removed, whatever happens."""
        with tempfile.TemporaryFile(prefix="etm_catalogue_") as spool:
            self.download_to_file(
                url,
                spool,
                max_bytes=max_bytes,
                allowed_hosts=self.allowed_hosts,
                endpoint="catalogue",
                deadline=deadline or self.catalogue_deadline,
            )
            spool.seek(0)
            return parse_catalogue_file(spool)
