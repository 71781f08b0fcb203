"""UDOMA marketplace client: catalogue (``import-nomenclature``), per-shop prices and stock
(``import-assortment``) pushed, marketplace orders (``export-orders``) pulled.

Every call is a ``POST <base_url>/<version>/<method>`` with a JSON body and the key in the
``X-API-KEY`` header. What is sent and read is in :mod:`.udoma_data`, the errors in
:mod:`.udoma_errors`.

Decisions where the document is silent (see also FIELD-NOTES.md):

- URL: ``https://market.udoma.online/api/online/integration`` by default (configurable). The
  version (``v1`` or ``v2``) is per connection and changes nomenclature and assortment: v1 items
  carry ``groupSourceSystemId`` (required) and v1 assortment rows their shop; v2 nomenclature and
  assortment are per shop (``shopSourceSystemId`` in the body). ``export-orders`` exists in v1
  only: it is always sent to ``v1/export-orders`` (``orders_version``), whatever the version.
- Groups: the document has no call to create groups (they are made in UDOMA). Its rule "a group
  holds either items or sub-groups" is checked before sending when ``groups`` is given to
  ``import_nomenclature`` (see :func:`.udoma_data.group_conflicts`); items of a group that breaks
  it are refused (``group_has_subgroups``) and the rest is sent.
- The document shows no error body and no import answer. Errors are read from the body's
  ``code`` (see :mod:`.udoma_errors`); an import is accepted on a 2xx whose body is empty or
  JSON that is not an error. A 2xx body that is not JSON (cut short, an HTML page) raises
  UdomaBadResponse: it is no UDOMA answer we can trust, and an import sent again next run does no
  harm. ``export-orders`` must answer JSON with an orders list (UdomaBadResponse otherwise).
- An error that stops an import half-way (run-level, ShopNotFound, UdomaUnavailable,
  UdomaBadResponse) carries ``partial_result``: the UdomaImportResult of the chunks sent before
  it, so the caller can mark those items as pushed.
- Imports are idempotent (the same items again leave the same state), so 429, 5xx, timeouts and
  lost connections are retried like every other request (base client), then raised:
  UdomaRateLimited (run-level) or UdomaUnavailable.
- Before sending, items UDOMA would refuse are refused per item and the rest is sent: missing
  ``sourceSystemId``/``name`` (v1: group), unreadable or negative remains/price (``invalid``);
  two items with one ``sourceSystemId`` (``duplicate_id``: every copy, since we cannot tell which
  is right) or one ``barCode`` (``duplicate_barcode``, every copy). An ``okeiCode`` the document
  does not allow is sent as 796 (pieces, what UDOMA would do) with a warning.
- Chunks: ``chunk_size`` items per request (500 by default, per call or per client). When UDOMA
  refuses a chunk for an item-level reason (``nomenclature.doubles``, ``…barcode.doubles``,
  ``…group…``): the items its answer names are refused and the others sent again; when it names
  none, the chunk is split in halves until the refused items are found (≈ log2(chunk) extra
  requests per bad item). A chunk refused for another reason (``invalid.json``, another 4xx)
  refuses its items (``rejected``) and the next chunks are still sent. Run-level errors (key,
  rate limit, service down after retries) and ``shop.not.found`` stop the call.
- ``turnOffMissing…`` switches off everything not in *the request*, so it cannot be split into
  chunks: with ``turn_off_missing`` every item goes in one request, and only when no item was
  refused before sending. If anything is refused (before or by UDOMA), the accepted items are
  sent in chunks without the turn-off, ``turned_off`` is False and ``notes`` says why (hiding
  the refused items' old cards is not what the administrator asked). v2 nomenclature has no
  ``turnOffMissingNomenclature`` in the document: it is not sent (``notes`` says so).
- Orders window: ``dateFromUtc`` exclusive, ``dateToUtc`` inclusive, sent as ISO 8601 with
  ``+00:00`` (seconds, microseconds when given). The document's example answers a request for
  shop s001 with an order of s002: every order keeps the shop it names (the asked shop when it
  names none), and the caller deduplicates by ``orderId``. An order without ``orderId`` cannot be
  imported exactly once: it is left out and reported in ``skipped``; an unreadable position is
  listed in the order's ``problems``, never dropped silently.
- Test connection: ``check_key`` sends ``v1/export-orders`` with an empty window (from = to =
  now: from is exclusive, so nothing can match). It is read-only: it changes nothing in UDOMA,
  unlike an import, which would touch the catalogue or stock. A 403 (``api.key.not.found`` or
  ``empty.api.key.not.allowed``) raises; any other answer, even a 400 about the shop, proves the
  key (UDOMA checks the key before the body); any other status (404: wrong URL) raises, and so
  does a 2xx that is not an orders answer (a web page at the URL). ``check_shop`` tells whether
  a shop id is bound (``v2/import-assortment`` with no rows: nothing changes), since
  ``export-orders`` answers an unknown shop with no orders rather than an error.
"""

import json
import logging
from datetime import datetime
from typing import ClassVar

from .base import HttpClient
from .errors import ApiError, RateLimited, RequestRejected, ServiceUnavailable
from .etm_data import text
from .udoma_data import (
    CODE_IMPORT_OK,
    CODE_SEARCH_OK,
    ITEM_CODES,
    ITEM_DUPLICATE_BARCODE,
    ITEM_DUPLICATE_ID,
    ITEM_GROUP_HAS_SUBGROUPS,
    ITEM_INVALID,
    ITEM_REJECTED,
    OKEI_CODES,
    OKEI_PIECE,
    SERVICE_TO_ITEM_CODE,
    VERSIONS,
    UdomaAssortmentRow,
    UdomaGroup,
    UdomaImportResult,
    UdomaItemError,
    UdomaNomenclature,
    UdomaOrder,
    UdomaOrderExport,
    UdomaOrderPosition,
    as_record,
    duplicates,
    format_utc,
    group_conflicts,
    id_text,
    money,
    parse_utc,
    quantity,
    shown,
)
from .udoma_errors import (
    ApiKeyRefused,
    InvalidJson,
    ShopNotFound,
    UdomaAuthError,
    UdomaBadResponse,
    UdomaErrorMixin,
    UdomaRateLimited,
    UdomaRejected,
    UdomaUnavailable,
    build_error,
    error_parts,
)

__all__ = [
    "UDOMA_DEFAULT_URL",
    "UdomaAssortmentRow",
    "UdomaClient",
    "UdomaGroup",
    "UdomaImportResult",
    "UdomaItemError",
    "UdomaNomenclature",
    "UdomaOrder",
    "UdomaOrderExport",
    "UdomaOrderPosition",
    "group_conflicts",
]

_logger = logging.getLogger(__name__)

UDOMA_DEFAULT_URL = "https://market.udoma.online/api/online/integration"
DEFAULT_CHUNK_SIZE = 500
KEY_HEADER = "X-API-KEY"
# Shop id sent by check_key when the caller names none (any id: the window is empty).
PROBE_SHOP = "supplier-connector-key-check"


class _Entry:
    """One item on its way: its index in the caller's list, its ids and its JSON object."""

    __slots__ = ("barcode", "group", "index", "payload", "source_id")

    def __init__(self, index, source_id, payload, barcode="", group=""):
        self.index = index
        self.source_id = source_id
        self.payload = payload
        self.barcode = barcode
        self.group = group


class UdomaClient(HttpClient):
    service_name = "UDOMA"
    default_headers: ClassVar[dict] = {"Accept": "application/json"}

    def __init__(
        self,
        base_url=UDOMA_DEFAULT_URL,
        api_key="",
        version="v2",
        *,
        chunk_size=DEFAULT_CHUNK_SIZE,
        orders_version="v1",
        source_system_info=None,
        source_system_version=None,
        **http_options,
    ):
        """``base_url``: up to ``…/integration`` (the version is added per call); ``api_key``:
        the organisation's key (``X-API-KEY``); ``version``: "v1" or "v2" (nomenclature and
        assortment); ``chunk_size``: items per import request; ``orders_version``: the path
        version of export-orders (the document has v1 only); ``source_system_info`` /
        ``source_system_version``: v2 nomenclature's optional ``shopSourceSystemInfo`` /
        ``shopSourceSystemVersion``. ``http_options``: HttpClient's (``timeout``, ``session``,
        ``max_retries``, ``backoff``, ``sleep``, ``now``…)."""
        super().__init__((base_url or UDOMA_DEFAULT_URL).strip(), **http_options)
        version = text(version).lower() or "v2"
        if version not in VERSIONS:
            raise ValueError(f"UDOMA API version must be one of {', '.join(VERSIONS)}")
        self.version = version
        self.orders_version = text(orders_version).lower() or "v1"
        self.chunk_size = max(1, int(chunk_size or DEFAULT_CHUNK_SIZE))
        self.source_system_info = text(source_system_info) or None
        self.source_system_version = text(source_system_version) or None
        self.api_key = api_key

    @property
    def api_key(self):
        return self._api_key

    @api_key.setter
    def api_key(self, value):
        """Set (or replace, after the key was regenerated) the key sent in ``X-API-KEY``."""
        self._api_key = text(value)
        if self._api_key:
            self.session.headers[KEY_HEADER] = self._api_key
        else:
            self.session.headers.pop(KEY_HEADER, None)

    def _secret_values(self):
        return (self._api_key,) if self._api_key else ()

    # -- test connection -----------------------------------------------------------------------
    def check_key(self, shop_source_id=None):
        """Prove the key with a read-only call: ``v1/export-orders`` over an empty window (from =
        to = now; from is exclusive), for ``shop_source_id`` or a placeholder shop. Nothing in
        UDOMA changes (an import would). Returns True; raises ApiKeyRefused (wrong or
        regenerated key) or UdomaAuthError (no key), UdomaRateLimited / UdomaUnavailable when
        UDOMA cannot be reached. A 400 with a UDOMA code (e.g. an unknown placeholder shop)
        still proves the key; ShopNotFound is raised only for a ``shop_source_id`` the caller
        named; any other answer raises (wrong URL)."""
        shop = id_text(shop_source_id)
        now = self.now()
        body = {"shopSourceSystemId": shop or PROBE_SHOP, "dateFromUtc": format_utc(now),
                "dateToUtc": format_utc(now)}  # fmt: skip
        failure = document = None
        try:
            document = self._post(self.orders_version, "export-orders", body,
                                  shop=shop or PROBE_SHOP, reading=True)  # fmt: skip
        except RequestRejected as exc:
            failure = exc
        if failure is not None:
            # Only a 400 with one of UDOMA's codes proves that UDOMA read the key.
            if failure.status != 400 or not failure.service_code \
                    or (isinstance(failure, ShopNotFound) and shop):  # fmt: skip
                raise failure
            _logger.info("UDOMA check_key: key accepted (%s)", failure.message)
            return True
        _order_rows(document)  # an answer that is no orders list is no UDOMA (wrong URL)
        return True

    def check_shop(self, shop_source_id):
        """Whether UDOMA has a shop bound to ``shop_source_id``. ``export-orders`` cannot tell
        (the document lists no shop error for it: an unknown shop just has no orders), so this
        sends ``v2/import-assortment`` with no rows and ``turnOffMissingAssortment`` false, for
        either connection version: nothing is imported and nothing switched off. Returns True
        when UDOMA accepts it; None when UDOMA refuses an empty list (``invalid.json``: it
        cannot tell then); raises ShopNotFound (naming the shop) when the shop is not bound, and
        the key and transport errors as every call."""
        shop = id_text(shop_source_id)
        if not shop:
            raise ValueError("check_shop needs the shop's shopSourceSystemId")
        body = {"turnOffMissingAssortment": False, "shopSourceSystemId": shop,
                "shopAssortment": []}  # fmt: skip
        failure = None
        try:
            self._post("v2", "import-assortment", body, shop=shop)
        except InvalidJson as exc:
            failure = exc
        if failure is not None:
            _logger.info("UDOMA check_shop %s: inconclusive (%s)", shop, failure.message)
            return None
        return True

    # -- catalogue -----------------------------------------------------------------------------
    def import_nomenclature(
        self,
        items,
        *,
        shop_source_id=None,
        turn_off_missing=False,
        move_in_groups=None,
        groups=None,
        chunk_size=None,
    ):
        """Send catalogue items (UdomaNomenclature or mappings with its fields).

        ``shop_source_id``: required by v2 (its nomenclature is per shop), ignored by v1.
        ``turn_off_missing``: a full upload asking UDOMA to switch off items not sent (v1 only;
        see the module docstring for when it is really sent): pass the WHOLE catalogue in this
        one call, since every item missing from it is switched off. Duplicates are found within
        one call only. ``move_in_groups``: v1's
        ``moveNomenclatureInGroups`` (None: not sent, UDOMA's default "yes"). ``groups``: the
        group tree (see ``group_conflicts``) to refuse items of a group with sub-groups before
        sending. ``chunk_size``: items per request (the client's by default).

        Returns a UdomaImportResult: ``accepted`` sourceSystemIds, per-item ``errors`` (index in
        ``items``, sourceSystemId, code, plain-English message), ``warnings``, ``requests``,
        ``turned_off``, ``notes``. Raises ApiKeyRefused / UdomaAuthError, UdomaRateLimited,
        a run-level UdomaRejected (wrong URL), UdomaUnavailable, UdomaBadResponse, ShopNotFound
        (v2), each with ``partial_result`` (the chunks accepted before it); ValueError (v2
        without a shop)."""
        shop = id_text(shop_source_id)
        if self.version == "v2" and not shop:
            raise ValueError("UDOMA v2 import-nomenclature needs the shop's shopSourceSystemId")
        result = UdomaImportResult()
        entries = self._nomenclature_entries(items, result, groups)
        if self.version == "v1":
            head = {"turnOffMissingNomenclature": False}
            if move_in_groups is not None:
                head["moveNomenclatureInGroups"] = bool(move_in_groups)
            turn_off_key = "turnOffMissingNomenclature" if turn_off_missing else None
        else:
            head = {"shopSourceSystemId": shop}
            if self.source_system_version:
                head["shopSourceSystemVersion"] = self.source_system_version
            if self.source_system_info:
                head["shopSourceSystemInfo"] = self.source_system_info
            turn_off_key = None
            if turn_off_missing:
                result.notes.append(
                    "UDOMA v2 import-nomenclature has no turnOffMissingNomenclature: items "
                    "missing from the upload were not switched off (send them as deleted)"
                )
        self._import("import-nomenclature", "nomenclatures", head, entries, result,
                     turn_off_key=turn_off_key, shop=shop, chunk_size=chunk_size)  # fmt: skip
        return result

    # -- prices and stock ----------------------------------------------------------------------
    def import_assortment(self, shop_source_id, rows, *, turn_off_missing=False, chunk_size=None):
        """Send one shop's remains and prices (UdomaAssortmentRow or mappings with its fields).

        ``shop_source_id``: the shop's shopSourceSystemId as bound in UDOMA (v1 puts it in each
        row, v2 in the body). ``turn_off_missing``: a full push asking UDOMA to zero the price
        and remains of the shop's items not sent (one request; see the module docstring): pass
        all the shop's rows in this one call.
        ``chunk_size``: rows per request.

        Returns a UdomaImportResult (as import_nomenclature). Raises ShopNotFound (naming the
        shop, ``shop_source_id``) when UDOMA has no shop bound to the id, and the errors of
        import_nomenclature, each with ``partial_result``; ValueError without a shop id."""
        shop = id_text(shop_source_id)
        if not shop:
            raise ValueError("UDOMA import-assortment needs the shop's shopSourceSystemId")
        result = UdomaImportResult()
        entries = self._assortment_entries(rows, shop, result)
        head = {"turnOffMissingAssortment": False}
        if self.version == "v2":
            head["shopSourceSystemId"] = shop
        turn_off_key = "turnOffMissingAssortment" if turn_off_missing else None
        self._import("import-assortment", "shopAssortment", head, entries, result,
                     turn_off_key=turn_off_key, shop=shop, chunk_size=chunk_size)  # fmt: skip
        return result

    # -- orders --------------------------------------------------------------------------------
    def export_orders(self, shop_source_id, date_from_utc=None, date_to_utc=None):
        """The shop's orders in the window (``date_from_utc``, ``date_to_utc``]: from exclusive
        (None: from the beginning), to inclusive (None: now). Datetimes naive UTC or aware.

        Returns a UdomaOrderExport: iterable over UdomaOrder (order_id, shop_source_id,
        ticket_number, date naive UTC, payment_method, delivery_cost, positions of
        UdomaOrderPosition(source_id, quantity, price), problems), with ``skipped`` (orders
        without orderId) and ``requests``. Raises ValueError for a window whose start is after
        its end, UdomaBadResponse for an answer that is no orders list, and the run-level
        errors."""
        shop = id_text(shop_source_id)
        if not shop:
            raise ValueError("UDOMA export-orders needs the shop's shopSourceSystemId")
        date_to = date_to_utc if date_to_utc is not None else self.now()
        body = {"shopSourceSystemId": shop}
        if date_from_utc is not None:
            if _naive(date_from_utc) > _naive(date_to):
                raise ValueError("UDOMA export-orders: the window starts after it ends")
            body["dateFromUtc"] = format_utc(date_from_utc)
        body["dateToUtc"] = format_utc(date_to)
        document = self._post(self.orders_version, "export-orders", body, shop=shop, reading=True)
        export = UdomaOrderExport(requests=1, shop_source_id=shop,
                                  date_from=_naive(date_from_utc) if date_from_utc else None,
                                  date_to=_naive(date_to))  # fmt: skip
        for row in _order_rows(document):
            order = _parse_order(row, shop)
            if isinstance(order, str):
                export.skipped.append(order)
                _logger.warning("UDOMA export-orders for shop %s: %s", shop, order)
            else:
                export.orders.append(order)
        return export

    # -- building what is sent -----------------------------------------------------------------
    def _nomenclature_entries(self, items, result, groups):
        entries = []
        for index, item in enumerate(items or ()):
            try:
                item = as_record(item, UdomaNomenclature)
            except (TypeError, ValueError) as exc:
                _refuse(result, index, "", ITEM_INVALID, str(exc))
                continue
            source_id = id_text(item.source_id)
            name = text(item.name)
            group = id_text(item.group_source_id)
            missing = [label for label, value in (("sourceSystemId", source_id), ("name", name))
                       if not value]  # fmt: skip
            if self.version == "v1" and not group:
                missing.append("groupSourceSystemId (the product category's UDOMA group)")
            if missing:
                _refuse(result, index, source_id, ITEM_INVALID,
                        f"Item '{shown(source_id or name)}' has no {', '.join(missing)}")  # fmt: skip
                continue
            payload = {"sourceSystemId": source_id}
            if self.version == "v1":
                payload["groupSourceSystemId"] = group
            payload["name"] = name
            for key, value in (("shortDescription", item.short_description),
                               ("description", item.description),
                               ("vendorCode", item.vendor_code)):  # fmt: skip
                if text(value):
                    payload[key] = text(value)
            barcode = id_text(item.barcode)
            if barcode:
                payload["barCode"] = barcode
            if item.okei_code not in (None, ""):
                code = item.okei_code
                if isinstance(code, str) and code.strip().isdigit():
                    code = int(code)
                if code not in OKEI_CODES or isinstance(code, bool):
                    result.warnings.append((index, source_id,
                                            f"Unit code {shown(code)} is not one UDOMA knows: "
                                            f"sent as {OKEI_PIECE} (pieces)"))  # fmt: skip
                    code = OKEI_PIECE
                payload["okeiCode"] = code
            payload["alcohol"] = bool(item.alcohol)
            payload["tobacco"] = bool(item.tobacco)
            payload["deleted"] = bool(item.deleted)
            entries.append(_Entry(index, source_id, payload, barcode,
                                  group if self.version == "v1" else ""))  # fmt: skip
        entries = _drop_duplicates(entries, result, barcodes=True)
        if groups is not None and self.version == "v1":
            conflicts = group_conflicts(_group_list(groups), [e.group for e in entries])
            if conflicts:
                kept = []
                for entry in entries:
                    if entry.group in conflicts:
                        _refuse(result, entry.index, entry.source_id, ITEM_GROUP_HAS_SUBGROUPS,
                                conflicts[entry.group])  # fmt: skip
                    else:
                        kept.append(entry)
                entries = kept
        return entries

    def _assortment_entries(self, rows, shop, result):
        entries = []
        for index, row in enumerate(rows or ()):
            try:
                row = as_record(row, UdomaAssortmentRow)
            except (TypeError, ValueError) as exc:
                _refuse(result, index, "", ITEM_INVALID, str(exc))
                continue
            source_id = id_text(row.source_id)
            remains = quantity(row.remains)
            price = money(row.price)
            problems = []
            if not source_id:
                problems.append("no nomenclatureSourceSystemId")
            if remains is None:
                problems.append(f"remains {shown(row.remains)} is not a number of 0 or more")
            if price is None:
                problems.append(f"price {shown(row.price)} is not an amount of 0 or more")
            sale_price = money(row.sale_price) if row.sale_price is not None else None
            if row.sale_price is not None and sale_price is None:
                problems.append(f"sale price {shown(row.sale_price)} is not an amount")
            sale_percent = None
            if row.sale_percent is not None:
                sale_percent = money(row.sale_percent)
                if sale_percent is None or sale_percent > 100:
                    problems.append(f"sale percent {shown(row.sale_percent)} is not 0 to 100")
            if problems:
                _refuse(result, index, source_id, ITEM_INVALID,
                        f"Shop '{shown(shop)}', item '{shown(source_id)}': {'; '.join(problems)}")
                continue
            payload = {}
            if self.version == "v1":
                payload["shopSourceSystemId"] = shop
            payload.update({"nomenclatureSourceSystemId": source_id, "remains": remains,
                            "price": price})  # fmt: skip
            if sale_price is not None:
                payload["salePrice"] = sale_price
            if sale_percent is not None:
                payload["salePercent"] = sale_percent
            entries.append(_Entry(index, source_id, payload))
        return _drop_duplicates(entries, result, barcodes=False)

    # -- sending imports -----------------------------------------------------------------------
    def _import(self, method, key, head, entries, result, **options):
        """Send the entries (see ``_import_entries``); an error that stops the call carries the
        result so far as ``partial_result`` (the chunks accepted before it)."""
        failure = None
        try:
            self._import_entries(method, key, head, entries, result, **options)
        except ApiError as exc:
            failure = exc
        if failure is not None:
            failure.partial_result = result
            raise failure

    def _import_entries(self, method, key, head, entries, result, *, turn_off_key, shop,
                        chunk_size):
        size = max(1, int(chunk_size or self.chunk_size))
        if turn_off_key and not entries:
            result.notes.append(
                "Nothing could be sent, so UDOMA was not asked to switch off missing items "
                "(that would switch off everything)"
            )
        elif turn_off_key:
            if result.errors:
                result.notes.append(
                    f"{len(result.errors)} item(s) were refused before sending, so UDOMA was "
                    "not asked to switch off missing items (that would hide them too); fix "
                    "them and run the full upload again"
                )
            else:
                failure = self._send_chunk(method, key, {**head, turn_off_key: True}, entries,
                                           result, shop)  # fmt: skip
                if failure is None:
                    result.turned_off = True
                    return
                result.notes.append(
                    f"UDOMA refused the full upload ({failure.message}); the accepted items "
                    "were sent without switching off missing items: fix the refused ones and "
                    "run the full upload again"
                )
        for start in range(0, len(entries), size):
            self._send_items(method, key, head, entries[start : start + size], result, shop)

    def _send_items(self, method, key, head, chunk, result, shop):
        """Send ``chunk``; on an item-level refusal find the refused items (named, or by
        halving) and send the others again."""
        failure = self._send_chunk(method, key, head, chunk, result, shop)
        if failure is None:
            return
        if failure.service_code not in ITEM_CODES:
            for entry in chunk:
                _refuse(result, entry.index, entry.source_id, ITEM_REJECTED, failure.message,
                        failure.service_code)  # fmt: skip
            return
        named = set(failure.items)
        bad = [e for e in chunk if named & {e.source_id, e.barcode, e.group}] if named else []
        if len(chunk) == 1 or len(bad) == len(chunk):
            for entry in chunk:
                _refuse_by_service(result, entry, failure)
            return
        if bad:
            for entry in bad:
                _refuse_by_service(result, entry, failure)
            ids = {id(entry) for entry in bad}
            self._send_items(method, key, head, [e for e in chunk if id(e) not in ids], result,
                             shop)  # fmt: skip
            return
        half = len(chunk) // 2
        self._send_items(method, key, head, chunk[:half], result, shop)
        self._send_items(method, key, head, chunk[half:], result, shop)

    def _send_chunk(self, method, key, head, chunk, result, shop):
        """One request; None when accepted (ids added to ``result.accepted``), else the
        non-run-level error that refused it (run-level ones and ShopNotFound are raised)."""
        body = {**head, key: [entry.payload for entry in chunk]}
        result.requests += 1
        failure = None
        try:
            self._post(self.version, method, body, shop=shop)
        except RequestRejected as exc:
            failure = exc
        if isinstance(failure, ShopNotFound) or getattr(failure, "run_level", False):
            raise failure
        if failure is None:
            result.accepted.extend(entry.source_id for entry in chunk)
        elif failure.service_code in ITEM_CODES:
            _logger.info("UDOMA %s: %d item(s) refused (%s)", method, len(chunk),
                         failure.service_code)  # fmt: skip
        return failure

    # -- the call protocol ---------------------------------------------------------------------
    def _post(self, version, method, body, *, shop="", reading=False):
        """POST ``<version>/<method>``: the parsed answer (None for an empty 2xx body of an
        import); the typed error otherwise (see :mod:`.udoma_errors`); UdomaBadResponse for a
        2xx body that is not JSON (or empty, when ``reading``: export-orders)."""
        what = f"{version}/{method}"
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        failure = None
        try:
            response = self._request("POST", what, data=data, endpoint=method,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        except RateLimited as exc:
            failure = UdomaRateLimited(exc.message, status=exc.status, retry_after=exc.retry_after)
        except ServiceUnavailable as exc:
            failure = UdomaUnavailable(exc.message, status=exc.status, retryable=exc.retryable)
        if failure is not None:
            raise failure
        status = response.status_code
        content = response.content
        response.close()
        document = None
        if content.strip():
            try:
                document = json.loads(content)
            except (ValueError, UnicodeDecodeError, RecursionError):
                document = _GARBLED
        if 200 <= status < 300:
            code = error_parts(document)[0] if document is not _GARBLED else ""
            if code and code not in (CODE_SEARCH_OK, CODE_IMPORT_OK) and _is_error_code(code):
                raise self._error(status, document, what, shop)
            if document is _GARBLED or (reading and document is None):
                what_body = "an empty" if document is None else "a malformed"
                raise UdomaBadResponse(
                    f"UDOMA answered {what} with {what_body} body ({len(content)} bytes, "
                    f"HTTP {status})",
                    status=status,
                )
            return document
        raise self._error(status, None if document is _GARBLED else document, what, shop)

    def _error(self, status, document, what, shop):
        return build_error(status, document, redact=self.redact, what=what, shop_source_id=shop)


_GARBLED = object()
_ERROR_CODES = frozenset(
    {"invalid.json", "empty.api.key.not.allowed", "api.key.not.found",
     "shop.not.found.by.source.system.id"}  # fmt: skip
) | ITEM_CODES


def _is_error_code(code):
    return code in _ERROR_CODES or code.endswith((".not.found", ".error", ".invalid", ".doubles"))


def _naive(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return parse_utc(value)
    return value


def _refuse(result, index, source_id, code, message, service_code=""):
    result.errors.append(UdomaItemError(index, source_id, code, message, service_code))


def _refuse_by_service(result, entry, failure):
    code = SERVICE_TO_ITEM_CODE.get(failure.service_code, ITEM_REJECTED)
    _refuse(result, entry.index, entry.source_id, code,
            f"Item '{shown(entry.source_id)}': {failure.message}", failure.service_code)  # fmt: skip


def _drop_duplicates(entries, result, *, barcodes):
    """Refuse every copy of a sourceSystemId (and barCode) sent more than once."""
    twice = duplicates(entry.source_id for entry in entries)
    twice_barcodes = duplicates(entry.barcode for entry in entries) if barcodes else set()
    if not twice and not twice_barcodes:
        return entries
    kept = []
    for entry in entries:
        if entry.source_id in twice:
            _refuse(result, entry.index, entry.source_id, ITEM_DUPLICATE_ID,
                    f"Several items have the id '{shown(entry.source_id)}' (sourceSystemId); "
                    "UDOMA refuses duplicates: give each product its own code")  # fmt: skip
        elif entry.barcode in twice_barcodes:
            _refuse(result, entry.index, entry.source_id, ITEM_DUPLICATE_BARCODE,
                    f"Several items have the barcode '{shown(entry.barcode)}'; UDOMA refuses "
                    "duplicate barcodes: fix the barcode of all but one")  # fmt: skip
        else:
            kept.append(entry)
    return kept


def _group_list(groups):
    if isinstance(groups, dict):
        return groups
    return [as_record(group, UdomaGroup) for group in groups]


def _order_rows(document):
    """The order objects of an export-orders answer: ``detail.orders`` (the document), also
    ``orders`` at the top or a bare list. UdomaBadResponse when there is none."""
    if isinstance(document, list):
        rows = document
    elif isinstance(document, dict):
        detail = document.get("detail")
        rows = None
        if isinstance(detail, dict):
            rows = detail.get("orders")
        elif isinstance(detail, list):
            rows = detail
        if rows is None:
            rows = document.get("orders")
        if rows is None and isinstance(detail, dict) and not detail:
            rows = []
    else:
        rows = None
    if not isinstance(rows, list):
        raise UdomaBadResponse("UDOMA answered export-orders without an orders list")
    return rows


def _parse_order(row, asked_shop):
    """A UdomaOrder, or a plain-English reason the order object cannot be imported."""
    if not isinstance(row, dict):
        return f"an order that is not an object ({type(row).__name__}) was left out"
    order_id = id_text(row.get("orderId"))
    ticket = id_text(row.get("ticketNumber"))
    if not order_id:
        return (f"order with ticket number '{shown(ticket)}' has no orderId and was left out "
                "(it could not be imported exactly once)")  # fmt: skip
    order = UdomaOrder(
        order_id=order_id,
        shop_source_id=id_text(row.get("shopSourceSystemId")) or asked_shop,
        ticket_number=ticket,
        date=parse_utc(row.get("dateUtc")),
        payment_method=text(row.get("paymentMethod")),
        delivery_cost=money(row.get("deliveryCost")) if row.get("deliveryCost") is not None
        else None,  # fmt: skip
        raw=row,
    )
    if order.date is None:
        order.problems.append(f"dateUtc '{shown(row.get('dateUtc'))}' could not be read")
    if row.get("deliveryCost") is not None and order.delivery_cost is None:
        order.problems.append(f"deliveryCost '{shown(row.get('deliveryCost'))}' could not be read")
    positions = row.get("positions")
    if not isinstance(positions, list):
        order.problems.append("the order has no positions list")
        positions = []
    for number, position in enumerate(positions, 1):
        if not isinstance(position, dict):
            order.problems.append(f"position {number} is not an object")
            continue
        source_id = id_text(position.get("nomenclatureSourceSystemId"))
        count = quantity(position.get("itemsCount"))
        price = money(position.get("purchasePrice"))
        if count is None or price is None:
            order.problems.append(
                f"position {number} ('{shown(source_id)}'): itemsCount "
                f"'{shown(position.get('itemsCount'))}' or purchasePrice "
                f"'{shown(position.get('purchasePrice'))}' could not be read"
            )
            continue
        order.positions.append(UdomaOrderPosition(source_id, count, price))
    return order


# Names re-exported for callers that catch UDOMA errors by class.
ERRORS = (ApiKeyRefused, UdomaAuthError, ShopNotFound, InvalidJson, UdomaRejected,
          UdomaRateLimited, UdomaUnavailable, UdomaBadResponse, UdomaErrorMixin)  # fmt: skip
