"""IMSKLAD fulfilment warehouse client: goods, stock, orders, supplier pre-orders, stock documents
and billing, through the single JSON endpoint.

Every call is one ``POST /`` of ``{"key", "type", "action", "data"}`` (``Content-Type:
application/json``); the answer is the object or array the action returns, or ``{"error": text,
"code": n}``. What is sent is built in :mod:`.imsklad_payloads` (with its own decisions), answers
are read in :mod:`.imsklad_data`, the calls IMSKLAD makes to us in :mod:`.imsklad_callbacks`.

Decisions where the document is silent or contradicts itself (see also FIELD-NOTES.md):

- URL: the document's text says ``http://client.imsklad.ru:7000``, every request example says
  ``Host: clients.imsklad.ru:7000``; the default is the examples' host (field notes), and
  ``base_url`` is configurable. Requests go to ``<base_url>/``. Plain http, as documented.
- Types and actions as the document lists them: goods add_good/update_good/get_stock, order
  add_order/update_order, preorder add_preorder/update_preorder, doc add_doc/update_doc, billing
  get_billing. The document has no call to read a good, an order or its status back (statuses
  come by callback; "События склада" is "Материал на оформлении"): none is invented here.
- The API key travels in the body: it is in ``secret_params`` and ``_secret_values``, so it is
  masked in every log line and error text, even when the service quotes it back.
- Error codes (the document only names them): 1 "fatal server error" → ServiceUnavailable
  (retried like a 5xx on idempotent calls), 2 "object not found" → NotFound (an item error),
  3 "incorrect data" → RequestRejected, 4 "operation not performed" → RequestRejected. The
  document has no code for a wrong key: an error whose text speaks of the key, access or
  authorisation (any code), and HTTP 401/403, are AuthError. An error answer is read whatever
  the HTTP status it comes with (the document shows none); ``service_code`` and ``item`` (what
  was asked about, e.g. "order 'AZ-1234'") are set on every error raised from an answer, and
  ``detail`` holds the service's own text (redacted).
- Creates (add_good, add_order, add_preorder, add_doc) are sent once (``retries=0``): a timeout,
  a lost connection, an HTTP 5xx (whatever its body), a code 1 answer, a garbled answer or an
  "ok" without an id raise OutcomeUnknown. The document has no way to look an object up; its
  ``update_*`` with the same payload is the lookup: the id back means it exists (adopt it),
  NotFound means it was not created (send the add again). An HTTP 429 was not processed:
  RateLimited, not OutcomeUnknown.
- "Already exists": the document does not say what a second add of the same id answers. An error
  (code 3 or 4, or none) whose text says "already exists"/"уже существует"/"duplicate" is raised
  as AlreadyExists (``existing_id`` when the answer carries an ``id``); an "ok" with an id (the
  service updated the object in place) is a normal result. Either way the caller adopts.
- update_order's ``{"result": "warning", "warning": ...}`` (order in assembly, goods not saved)
  is returned in the ImskladWriteResult (``warning``, ``goods_not_saved``), never swallowed; its
  text is redacted (it is shown to users on the order). An error code the document does not list
  is a RequestRejected naming the code.
- get_stock: the document gives no limit on ``ids``; they are sent in chunks of
  ``stock_chunk_size`` (100 by default, a parameter). ``storage_id`` is typed String in that table
  and Int everywhere else (and 1 in its example): it is sent as a number. The document does not
  say how unknown ids are answered: ids left out of the answer are ``missing``; a NotFound for a
  chunk is split in halves until the unknown ids are found (the others still get their stock).
  Values that are no IMSKLAD id (not a plain non-negative integer) are never sent: ``invalid``.
- ``storage_id``: 1 by default ("На данный момент равен 1"), a constructor parameter; a
  pre-order, document or order may carry its own. get_billing's table describes its
  ``storage_id`` as "ID документа в системе партнера", a copy of another table: the storage id is
  sent. Periods and dates are Unix timestamps (naive datetimes UTC, bare dates midnight at the
  warehouse, ``service_utc_offset`` 3 h: Moscow).
- Test connection: ``check_key`` asks the stock of ``probe_ids`` (default ``[0]``, an id no good
  has: an empty list could be an SQL ``IN ()`` at the service); an answer, even NotFound, proves
  the key works.
"""

import contextlib
import logging
import re
from typing import ClassVar

from .base import HttpClient
from .errors import (
    AlreadyExists,
    AuthError,
    BadResponse,
    NotFound,
    OutcomeUnknown,
    RequestRejected,
    ServiceUnavailable,
)
from .etm_data import text, to_int
from .imsklad_data import (
    ERROR_FATAL,
    ERROR_INCORRECT_DATA,
    ERROR_NOT_FOUND,
    ERROR_NOT_PERFORMED,
    ImskladBilling,
    ImskladStockReport,
    ImskladWriteResult,
    parse_billing,
    parse_write_result,
    service_error,
    stock_rows,
    to_timestamp,
)
from .imsklad_payloads import (
    ImskladAddress,
    ImskladDoc,
    ImskladGood,
    ImskladLine,
    ImskladOrder,
    ImskladPreorder,
    doc_data,
    good_data,
    order_data,
    preorder_data,
)
from .shate_convert import MALFORMED, chunks

__all__ = [
    "IMSKLAD_DEFAULT_URL",
    "ImskladAddress",
    "ImskladBilling",
    "ImskladClient",
    "ImskladDoc",
    "ImskladGood",
    "ImskladLine",
    "ImskladOrder",
    "ImskladPreorder",
    "ImskladStockReport",
    "ImskladWriteResult",
]

_logger = logging.getLogger(__name__)

IMSKLAD_DEFAULT_URL = "http://clients.imsklad.ru:7000"
DEFAULT_STORAGE_ID = 1
STOCK_CHUNK_SIZE = 100
MAX_DETAIL = 500
AUTH_HTTP = (401, 403)
# The document has no code for a refused key: these words in an error's text tell it.
_AUTH_WORDS = re.compile(
    r"\bkey\b|ключ|auth|авториз|access denied|доступ запрещ|нет доступа|forbidden", re.I
)
_EXISTS_WORDS = re.compile(r"already exist|уже существ|уже есть|duplicate|дублир|дублик", re.I)


class ImskladClient(HttpClient):
    service_name = "IMSKLAD"
    secret_params = ("key",)
    default_headers: ClassVar[dict] = {"Accept": "application/json"}

    def __init__(
        self,
        *,
        api_key,
        base_url=IMSKLAD_DEFAULT_URL,
        storage_id=DEFAULT_STORAGE_ID,
        stock_chunk_size=STOCK_CHUNK_SIZE,
        service_utc_offset=3,
        **http_options,
    ):
        super().__init__((base_url or IMSKLAD_DEFAULT_URL).strip(), **http_options)
        self._api_key = text(api_key)
        self.storage_id = int(storage_id or DEFAULT_STORAGE_ID)
        self.stock_chunk_size = max(1, int(stock_chunk_size or STOCK_CHUNK_SIZE))
        self.service_utc_offset = float(service_utc_offset or 0)

    def _secret_values(self):
        return (self._api_key,)

    # -- goods -------------------------------------------------------------------------------
    def add_good(self, good):
        """Create a good (ImskladGood or mapping); ImskladWriteResult with IMSKLAD's id (keep it:
        get_stock asks by it). Sent once: OutcomeUnknown when the answer is lost, AlreadyExists
        when IMSKLAD has our id already."""
        data, item = good_data(good)
        return self._create("goods", "add_good", data, item)

    def update_good(self, good):
        data, item = good_data(good)
        return self._update("goods", "update_good", data, item)

    def get_stock(self, ids, *, storage_id=None, chunk_size=None):
        """Stock and reserve of goods by IMSKLAD id, ``chunk_size`` ids per request
        (``stock_chunk_size`` by default): an ImskladStockReport."""
        report = ImskladStockReport()
        asked = []
        for value in ids or ():
            number = to_int(value)
            if number is None or number < 0 or text(value) != str(number):
                report.invalid.append(text(value))
            elif number not in asked:
                asked.append(number)
        storage = int(storage_id or self.storage_id)
        for chunk in chunks(asked, max(1, int(chunk_size or self.stock_chunk_size))):
            self._stock_chunk(chunk, storage, report)
        return report

    def _stock_chunk(self, chunk, storage, report):
        report.requests += 1
        item = f"the stock of {len(chunk)} good(s)"
        document = unknown = object()
        # Split outside the except block: a later error must not chain to this one.
        with contextlib.suppress(NotFound):
            document = self._call("goods", "get_stock", {"storage_id": storage, "ids": chunk},
                                  item=item)  # fmt: skip
        if document is unknown:
            if len(chunk) == 1:
                report.missing.append(chunk[0])
                return
            half = len(chunk) // 2
            self._stock_chunk(chunk[:half], storage, report)
            self._stock_chunk(chunk[half:], storage, report)
            return
        wanted = set(chunk)
        for row in stock_rows(document):
            if row.id in wanted:
                report.stocks[row.id] = row
            else:
                _logger.debug("IMSKLAD stock for id %s that was not asked: ignored", row.id)
        report.missing.extend(good_id for good_id in chunk if good_id not in report.stocks)

    def check_key(self, probe_ids=(0,)):
        """Prove the key works with one small get_stock; AuthError when it is refused."""
        ids = list(probe_ids) or [0]
        self.get_stock(ids, chunk_size=len(ids))
        return True

    # -- orders, pre-orders, documents ---------------------------------------------------------
    def add_order(self, order):
        """Create a sale order (ImskladOrder or mapping). Sent once; see the module docstring."""
        data, item = order_data(order, storage_id=self.storage_id,
                                utc_offset=self.service_utc_offset)  # fmt: skip
        return self._create("order", "add_order", data, item)

    def update_order(self, order):
        """Change an order (the update table's fields: no storage_id, no guid). The result's
        ``warning`` tells that the order is in assembly and its goods were not saved."""
        data, item = order_data(order, storage_id=self.storage_id, update=True,
                                utc_offset=self.service_utc_offset)  # fmt: skip
        return self._update("order", "update_order", data, item)

    def add_preorder(self, preorder):
        """Create a supplier pre-order (type 0 incoming, 1 return to the supplier). Sent once."""
        data, item = preorder_data(preorder, storage_id=self.storage_id,
                                   utc_offset=self.service_utc_offset)  # fmt: skip
        return self._create("preorder", "add_preorder", data, item)

    def update_preorder(self, preorder):
        data, item = preorder_data(preorder, storage_id=self.storage_id, update=True,
                                   utc_offset=self.service_utc_offset)  # fmt: skip
        return self._update("preorder", "update_preorder", data, item)

    def add_doc(self, doc):
        """Create a stock document (type 0 receipt, 1 write-off). Sent once."""
        data, item = doc_data(doc, storage_id=self.storage_id, utc_offset=self.service_utc_offset)
        return self._create("doc", "add_doc", data, item)

    def update_doc(self, doc):
        data, item = doc_data(doc, storage_id=self.storage_id, update=True,
                              utc_offset=self.service_utc_offset)  # fmt: skip
        return self._update("doc", "update_doc", data, item)

    # -- billing ---------------------------------------------------------------------------
    def get_billing(self, date_from, date_to, *, storage_id=None):
        """Balance and operations from ``date_from`` to ``date_to`` (datetimes naive UTC, dates,
        or Unix timestamps): an ImskladBilling."""
        start = to_timestamp(date_from, self.service_utc_offset)
        end = to_timestamp(date_to, self.service_utc_offset)
        if start is None or end is None or start > end:
            raise ValueError("get_billing needs a period with its start before its end")
        data = {"storage_id": int(storage_id or self.storage_id), "from": start, "to": end}
        document = self._call("billing", "get_billing", data, item="the billing")
        return parse_billing(document)

    # -- the call protocol ---------------------------------------------------------------------
    def _create(self, type_, action, data, item):
        document = self._call(type_, action, data, item=item, once=True)
        result = parse_write_result(document, data["id"])
        if result is None or result.system_id is None:
            raise OutcomeUnknown(
                f"IMSKLAD answered {action} for {item} without its id; it may have been "
                "created: look it up (update) before sending it again"
            )
        _logger.info("IMSKLAD %s: %s has id %s", action, item, result.system_id)
        return result

    def _update(self, type_, action, data, item):
        document = self._call(type_, action, data, item=item)
        result = parse_write_result(document, data["id"])
        if result is None:
            raise BadResponse(f"IMSKLAD answered {action} for {item} with no result")
        if result.has_warning:
            result.warning = self.redact(result.warning)  # shown to users on the order
            _logger.info("IMSKLAD %s: %s saved with a warning: %s", action, item,
                         result.warning)  # fmt: skip
        return result

    def call(self, type_, action, data, *, item="the request", once=False):
        """One raw call: the parsed answer, or the typed error of an ``{error, code}`` answer.
        ``once``: a non-idempotent call (sent once; lost answers raise OutcomeUnknown)."""
        return self._call(type_, action, data, item=item, once=once)

    def _call(self, type_, action, data, *, item, once=False):
        envelope = {"key": self._api_key, "type": type_, "action": action, "data": data}
        attempt = 0
        while True:
            response = self._send(envelope, action, item, once)
            document = self._read(response, action, item, once)
            error = service_error(document)
            if error is None:
                return document
            code, message = error
            failure = self._error(code, message, document, action, item, once,
                                  response.status_code)  # fmt: skip
            if type(failure) is not ServiceUnavailable or attempt >= self.max_retries:
                raise failure
            attempt += 1
            delay = self._backoff(attempt - 1)
            _logger.info("IMSKLAD %s: fatal server error, retry %d of %d in %.1f s",
                         action, attempt, self.max_retries, delay)  # fmt: skip
            self.sleep(delay)

    def _send(self, envelope, action, item, once):
        if not once:
            return self._request("POST", "", json=envelope, endpoint=action)
        failure = None
        try:
            return self._request("POST", "", json=envelope, endpoint=action, retries=0)
        except ServiceUnavailable as exc:
            failure = exc
        if not failure.retryable:  # TLS or URL failure: nothing reached the service
            raise failure
        raise OutcomeUnknown(
            f"No answer to IMSKLAD {action} for {item} ({failure.message}); it may have been "
            "processed: look it up (update) before sending it again",
            status=failure.status,
        )

    def _read(self, response, action, item, once):
        """The parsed body; errors for statuses and bodies that are no answer at all."""
        status = response.status_code
        content = response.content
        response.close()
        document = MALFORMED
        if content.strip():
            try:
                document = self.parse_json(content)
            except BadResponse:
                document = MALFORMED
        if document is not MALFORMED and service_error(document) is not None:
            return document  # read whatever the HTTP status
        if status in AUTH_HTTP:
            raise AuthError(f"IMSKLAD refused the API key (HTTP {status})", status=status)
        if not 200 <= status < 300:
            raise RequestRejected(
                f"IMSKLAD refused {action} for {item} with HTTP {status}; check the API URL",
                status=status,
            )
        if document is MALFORMED:
            what = "an empty" if not content.strip() else "a malformed"
            if once:
                raise OutcomeUnknown(
                    f"IMSKLAD answered {action} for {item} with {what} body "
                    f"({len(content)} bytes); it may have been processed: look it up (update) "
                    "before sending it again",
                    status=status,
                )
            raise BadResponse(
                f"IMSKLAD answered {action} with {what} body ({len(content)} bytes)",
                status=status,
            )
        return document

    def _error(self, code, message, document, action, item, once, status):
        detail = self.redact(message)[:MAX_DETAIL]
        options = {"status": status, "detail": detail}
        where = f"{item} ({action})"
        if action.startswith("add_") and code in (None, ERROR_INCORRECT_DATA, ERROR_NOT_PERFORMED) \
                and _EXISTS_WORDS.search(message):  # fmt: skip
            error = AlreadyExists(f"IMSKLAD already has {where}",
                                  existing_id=to_int(document.get("id")), **options)  # fmt: skip
        elif _AUTH_WORDS.search(message):
            error = AuthError(f"IMSKLAD refused the API key ({action})", **options)
        elif code == ERROR_FATAL and once:
            error = OutcomeUnknown(
                f"IMSKLAD had a fatal error on {where}; it may have been processed: look it "
                "up (update) before sending it again", **options)  # fmt: skip
        elif code == ERROR_FATAL:
            error = ServiceUnavailable(f"IMSKLAD had a fatal error on {where}", **options)
        elif code == ERROR_NOT_FOUND:
            error = NotFound(f"IMSKLAD found no object for {where}", **options)
        elif code == ERROR_INCORRECT_DATA:
            error = RequestRejected(f"IMSKLAD rejected the data of {where}", **options)
        elif code == ERROR_NOT_PERFORMED:
            error = RequestRejected(f"IMSKLAD did not perform {where}", **options)
        else:
            error = RequestRejected(f"IMSKLAD refused {where} (error code {code})", **options)
        error.service_code = code
        error.item = item
        return error
