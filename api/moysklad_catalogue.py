"""MoySklad part 1 calls: catalogue (assortment, products, variants, folders, UoM), reference
lists (currencies, price types, stores, organizations), bulk pushes and stock reports. A mixin of
MoySkladClient (``moysklad.py`` has the decisions; images and webhooks: ``moysklad_media``)."""

from dataclasses import dataclass
from datetime import timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import requests

from .errors import BadResponse, ServiceUnavailable
from .json_stream import MalformedJson, iter_json_array
from .moysklad_data import MsStockReport, parse_product, parse_stock_rows, text
from .moysklad_errors import MoySkladRejected, build_error, error_entries, is_error_object
from .moysklad_payloads import (
    MAX_BULK_ITEMS,
    MAX_REQUEST_BYTES,
    bulk_batches,
    check_uuid,
    payload_of,
)
from .moysklad_query import Filter, to_moscow_text
from .moysklad_reference_data import (
    parse_company_settings,
    parse_currency,
    parse_folder,
    parse_organization,
    parse_price_type,
    parse_store,
    parse_uom,
)
from .prefetch import PagesAhead

STOCK_TYPES = ("stock", "freeStock", "quantity", "reserve", "inTransit")
CHANGED_SINCE_MAX = timedelta(hours=24)
CHANGED_SINCE_MARGIN = timedelta(minutes=5)
WEBHOOK_ACTIONS = ("CREATE", "UPDATE", "DELETE", "PROCESSED")
# Pages by offset stay stable while objects change during a pull only in an order that an update
# does not change (by ``updated``, an object changed mid-pull jumps to the end and shifts the
# next pages: one object would be skipped).
STABLE_ORDER = "id"
_UTC = timezone.utc  # noqa: UP017 (Odoo 18 runs on Python 3.10)
ASSORTMENT_BETA = {"X-Lognex-Remap-Beta-Feature": "assortmentWithoutStock"}
# Stock rows handed over per batch, and bytes read from the answer at a time.
STOCK_ROWS_BATCH = 5000
# Assortment pages asked at once by ``prefetch_assortment``: with MoySklad's 5 parallel requests,
# two stay free (a product's images asked meanwhile, another run of the account). Measured on
# 2 cores (emulator and client side by side, 100,000 products, 0.04 s of work per page): three,
# five or eight pages ahead end within 0.3 s of each other (21.0 to 21.3 s, the budget being
# the limit: the threads wait for it); one page ahead left it idle while a page travelled and
# was decoded.
PAGES_AHEAD = 3
STREAM_CHUNK = 64 * 1024


@dataclass
class MsItemResult:
    """The outcome of one item of a bulk push. ``index``: position in the caller's list;
    ``key``: the draft's ``key``; ``created``: it was a creation (no meta); ``error``: the typed
    MoySklad error of this item (None when ``ok``)."""

    index: int
    key: object
    ok: bool
    created: bool
    id: str = ""
    href: str = ""
    sync_id: str = ""
    item: object = None  # MsProduct (or the parsed entity) when ok
    error: Exception | None = None


def _since_filter(filter, updated_since, include_archived):
    built = Filter()
    if updated_since is not None:
        built.updated_since(updated_since)
    if include_archived:
        built.eq("archived", True).eq("archived", False)
    text_filter = str(built)
    if filter:
        extra = str(filter)
        text_filter = f"{text_filter};{extra}" if text_filter else extra
    return text_filter or None


class MoySkladCatalogueMixin:
    # -- catalogue --------------------------------------------------------------------------------
    def iter_assortment(self, *, updated_since=None, include_archived=True, filter=None,
                        search=None, order=None, limit=1000, expand=None, offset=0):  # fmt: skip
        """Pages (MsPage) of products and variants from ``entity/assortment``; services, bundles
        and consignments in ``skipped`` with a reason. ``updated_since``: the watermark (naive
        UTC or aware), sent as ``updated>=`` in Moscow time."""
        return self.iter_pages(
            "entity/assortment",
            parse=parse_product,
            filter=_since_filter(filter, updated_since, include_archived),
            search=search,
            order=order or STABLE_ORDER,
            limit=limit,
            offset=offset,
            expand=expand,
            extra_headers=ASSORTMENT_BETA if self.assortment_beta else None,
        )

    def prefetch_assortment(self, *, ahead=PAGES_AHEAD, name="moysklad-assortment", **options):
        """The pages of ``iter_assortment`` (same options), up to ``ahead`` asked at once in
        threads once the first page told the list's size, handed in page order
        (``api.prefetch.PagesAhead``); use as a context manager. Each page goes through the
        budget, the parallel limit and the retries like any request; leaving the block (an
        error too) sends nothing more and ends the threads' waits at once."""
        start = int(options.pop("offset", 0) or 0)

        def fetch(offset):
            pages = self.iter_assortment(offset=offset, **options)
            try:
                return next(pages)
            finally:
                pages.close()

        return PagesAhead(fetch, offset=start, ahead=ahead, on_start=self._cancel_on, name=name)

    def iter_products(self, *, updated_since=None, include_archived=True, filter=None,
                      search=None, order=None, limit=1000, expand=None):  # fmt: skip
        """Pages (MsPage of MsProduct) of ``entity/product``."""
        return self.iter_pages("entity/product", parse=parse_product,
                               filter=_since_filter(filter, updated_since, include_archived),
                               search=search, order=order or STABLE_ORDER, limit=limit,
                               expand=expand)  # fmt: skip

    def iter_variants(self, *, updated_since=None, include_archived=True, filter=None,
                      search=None, limit=1000):  # fmt: skip
        return self.iter_pages("entity/variant", parse=parse_product,
                               filter=_since_filter(filter, updated_since, include_archived),
                               search=search, order=STABLE_ORDER, limit=limit)  # fmt: skip

    def get_product(self, product_id, *, kind="product", expand=None):
        """One MsProduct (``kind`` product or variant); MoySkladNotFound when it is gone."""
        check_uuid(product_id, "product id")
        params = {"expand": expand} if expand else None
        document = self.get_json(f"entity/{kind}/{product_id}", params)
        product = parse_product(document)
        if product is None:
            raise BadResponse(f"MoySklad answered the {kind} {product_id} with no usable object")
        return product

    def iter_folders(self, *, updated_since=None):
        return self.iter_rows("entity/productfolder", parse=parse_folder,
                              filter=_since_filter(None, updated_since, True))  # fmt: skip

    def list_uoms(self):
        return self.list_all("entity/uom", parse=parse_uom)

    # -- reference lists --------------------------------------------------------------------------
    def list_currencies(self):
        return self.list_all("entity/currency", parse=parse_currency)

    def company_settings(self):
        """MsCompanySettings: the accounting currency and the price types."""
        return parse_company_settings(self.get_json("context/companysettings"))

    def price_types(self):
        """[MsPriceType] from ``context/companysettings/pricetype`` (a plain array)."""
        document = self.get_json("context/companysettings/pricetype")
        if not isinstance(document, list):
            raise BadResponse("MoySklad's price types answer is not a list")
        return [item for item in map(parse_price_type, document) if item]

    def list_stores(self):
        return self.list_all("entity/store", parse=parse_store)

    def list_organizations(self):
        return self.list_all("entity/organization", parse=parse_organization)

    def reference(self):
        """Organizations, stores, price types, currencies and the accounting currency: what Test
        connection stores on the connection (five requests)."""
        from .moysklad import MsReference

        settings = self.company_settings()
        currencies = self.list_currencies()
        default = settings.currency
        if default is None or not default.iso_code:
            # companysettings may give the currency as a bare reference: complete it from the
            # list (by id, else the one marked default).
            known = {currency.id: currency for currency in currencies}
            default = known.get(default.id if default else "") or next(
                (currency for currency in currencies if currency.default), default)  # fmt: skip
        return MsReference(
            organizations=self.list_organizations(),
            stores=self.list_stores(),
            price_types=settings.price_types,
            currencies=currencies,
            default_currency=default,
        )

    # -- bulk push --------------------------------------------------------------------------------
    def push_products(self, items, *, entity_type="product", max_items=MAX_BULK_ITEMS,
                      max_bytes=MAX_REQUEST_BYTES):  # fmt: skip
        """Create and update products in bulk: a generator of one [MsItemResult] per POST.

        ``items``: MsProductDraft or ready dicts. Drafts with ``href`` update, others create
        (with their ``sync_id``). A draft that cannot be built (no name...) or is too large alone
        gets its own failed result in the first list, nothing is sent for it. A request-level
        failure (auth, rate, 5xx after retries) is raised for that batch; the results of the
        batches before it were yielded already."""
        return self.push_entities(entity_type, items, parse=parse_product, max_items=max_items,
                                  max_bytes=max_bytes)  # fmt: skip

    def push_entities(self, entity_type, items, *, parse, max_items=MAX_BULK_ITEMS,
                      max_bytes=MAX_REQUEST_BYTES):  # fmt: skip
        """Bulk create/update of any entity (``push_products`` tells how); ``parse(row)`` turns
        each answered object into the result's ``item``."""
        items = list(items)
        prepared, results_first = [], []
        for index, item in enumerate(items):
            try:
                prepared.append((index, payload_of(item, entity_type)))
            except (ValueError, TypeError) as exc:
                results_first.append(self._local_failure(index, item, str(exc)))
        payloads = [payload for _index, payload in prepared]
        batches, oversized = bulk_batches(payloads, max_items=max_items, max_bytes=max_bytes)
        for position in oversized:
            index = prepared[position][0]
            results_first.append(self._local_failure(
                index, items[index], f"The item is larger than {max_bytes} bytes of JSON"))  # fmt: skip
        if results_first:
            yield sorted(results_first, key=lambda result: result.index)
        for batch in batches:
            indexes = [prepared[position][0] for position in batch.indexes]
            yield self._push_batch(entity_type, batch, indexes, [items[i] for i in indexes],
                                   parse)  # fmt: skip

    def _local_failure(self, index, item, reason):
        error = MoySkladRejected(f"Not sent to MoySklad: {reason}")
        return MsItemResult(index=index, key=getattr(item, "key", None), ok=False,
                            created=not _is_update(item), error=error)  # fmt: skip

    def _push_batch(self, entity_type, batch, indexes, items, parse):
        creates_without_sync = any(
            "meta" not in payload and not payload.get("syncId") for payload in batch.payloads
        )
        path = f"entity/{entity_type}"
        response = self._call("POST", path, body=batch.body, endpoint=path,
                              once=creates_without_sync)  # fmt: skip
        status = response.status_code
        body = self._body(response) if status >= 400 else None
        if status >= 400:
            per_item = (isinstance(body, list) and len(body) == len(batch.payloads)
                        and all(is_error_object(element) or isinstance(element, dict)
                                for element in body))  # fmt: skip
            if status != 400 or not per_item:
                entries = error_entries(body) if isinstance(body, (dict, list)) else []
                raise build_error(status, entries, redact=self.redact, what=f"POST {path}")
            document = body
        else:
            if not response.content.strip():
                raise BadResponse(f"MoySklad sent an empty answer to the bulk POST {path}")
            document = self.json_or_raise(response, "a JSON array")
        if not isinstance(document, list):
            raise BadResponse(f"MoySklad answered the bulk POST {path} with no array")
        return self._match_bulk(document, batch.payloads, indexes, items, status, parse)

    def _match_bulk(self, document, payloads, indexes, items, status, parse):
        if len(document) == len(payloads):
            pairs = list(zip(range(len(payloads)), document, strict=True))
        else:
            pairs = self._pair_by_identity(document, payloads)
        answered = {position: element for position, element in pairs}
        results = []
        for position, payload in enumerate(payloads):
            index, item = indexes[position], items[position]
            created = "meta" not in payload
            sync_id = text(payload.get("syncId"))
            result = MsItemResult(index=index, key=getattr(item, "key", None), ok=False,
                                  created=created, sync_id=sync_id)  # fmt: skip
            element = answered.get(position)
            if element is None:
                result.error = BadResponse("MoySklad's bulk answer has nothing for this item")
            elif is_error_object(element):
                result.error = build_error(status if status >= 400 else 400,
                                           error_entries(element), redact=self.redact,
                                           what="bulk item")  # fmt: skip
            else:
                entity = parse(element)
                entity_id = text(element.get("id")) or (entity.id if entity else "")
                href = text((element.get("meta") or {}).get("href"))
                if not entity_id:
                    result.error = BadResponse("MoySklad's bulk answer for this item has no id")
                else:
                    result.ok, result.id, result.href, result.item = True, entity_id, href, entity
                    result.sync_id = text(element.get("syncId")) or sync_id
            results.append(result)
        return results

    @staticmethod
    def _pair_by_identity(document, payloads):
        by_sync, by_href = {}, {}
        for position, payload in enumerate(payloads):
            if "meta" in payload:
                by_href[text(payload["meta"].get("href"))] = position
            elif payload.get("syncId"):
                by_sync[text(payload["syncId"])] = position
        pairs = []
        for element in document:
            if not isinstance(element, dict) or is_error_object(element):
                continue  # an error we cannot place: its item stays unanswered
            href = text((element.get("meta") or {}).get("href"))
            position = by_href.get(href)
            if position is None:
                position = by_sync.get(text(element.get("syncId")))
            if position is not None:
                pairs.append((position, element))
        return pairs

    # -- stock ------------------------------------------------------------------------------------
    def stock(self, *, by_store=True, stock_type="stock", changed_since=None, assortment_ids=None,
              store_ids=None, include_zero=False, with_recalculate=False):  # fmt: skip
        """A short stock report (``report/stock/bystore/current`` or ``.../all/current``):
        MsStockReport. ``changed_since`` (naive UTC or aware): only what changed since then,
        zero lines included (see the module decisions for > 24 h). The whole report in memory:
        for a whole account, ``iter_stock_rows``."""
        stream = self.iter_stock_rows(
            by_store=by_store, stock_type=stock_type, changed_since=changed_since,
            assortment_ids=assortment_ids, store_ids=store_ids, include_zero=include_zero,
            with_recalculate=with_recalculate,
        )  # fmt: skip
        rows = [row for batch in stream for row in batch]
        return MsStockReport(rows=rows, stock_type=stock_type, by_store=by_store,
                             changed_since=stream.changed_since, full=stream.full,
                             skipped=stream.skipped)  # fmt: skip

    def iter_stock_rows(self, *, by_store=True, stock_type="stock", changed_since=None,
                        assortment_ids=None, store_ids=None, include_zero=False,
                        with_recalculate=False, batch=STOCK_ROWS_BATCH):  # fmt: skip
        """The rows of a short stock report as its answer arrives: an MsStockStream, iterated
        for lists of at most ``batch`` MsStockRow (options as ``stock``). MoySklad sends the
        report as one array, without paging: it is read element by element, never whole."""
        if stock_type not in STOCK_TYPES:
            raise ValueError(f"stock_type must be one of {STOCK_TYPES}")
        path = "report/stock/bystore/current" if by_store else "report/stock/all/current"
        params = {"stockType": stock_type}
        since = self._changed_since(changed_since)
        if since is not None:
            params["changedSince"] = to_moscow_text(since)
        elif include_zero:
            params["include"] = "zeroLines"
        if with_recalculate and by_store:
            params["withRecalculate"] = "true"
        filters = list(self._stock_filters(assortment_ids, store_ids if by_store else None))
        return MsStockStream(self, path, params, filters, stock_type=stock_type,
                             by_store=by_store, changed_since=since, batch=batch)  # fmt: skip

    def stream_array(self, path, params=None, *, endpoint=None):
        """The elements of a GET answer that is one JSON array, parsed as the bytes arrive.

        Errors as for ``get_json`` (statuses, 401 renewal, retries before the answer starts);
        an answer that is no array, or is malformed, is BadResponse; one cut off while it is
        read is ServiceUnavailable (not retried: the caller has used the rows before it)."""
        endpoint = endpoint or self._endpoint_label(path)
        response = self._call("GET", path, params=params, endpoint=endpoint, stream=True)
        try:
            self._raise_for_status(response, f"GET {endpoint}")
            try:
                yield from iter_json_array(response.iter_content(STREAM_CHUNK))
            except MalformedJson as exc:
                raise BadResponse(f"MoySklad's {endpoint} answer is not a JSON array: {exc}",
                                  status=response.status_code) from None  # fmt: skip
            except requests.RequestException as exc:
                raise ServiceUnavailable(
                    f"MoySklad's {endpoint} answer was cut off while it was read "
                    f"({type(exc).__name__})"
                ) from None
        finally:
            response.close()

    def stock_by_store(self, *, types=("stock", "reserve", "inTransit"), **options):
        """{(assortment id, store id): {stock type: Decimal or None}} from one report per type
        (``stock`` options otherwise), and the reports themselves."""
        merged, reports = {}, []
        for stock_type in types:
            report = self.stock(by_store=True, stock_type=stock_type, **options)
            reports.append(report)
            for row in report.rows:
                merged.setdefault((row.assortment_id, row.store_id), {})[stock_type] = row.quantity
        return merged, reports

    def _changed_since(self, changed_since):
        if changed_since is None:
            return None
        moment = changed_since
        if moment.tzinfo is not None:
            moment = moment.astimezone(_UTC).replace(tzinfo=None)
        now = self.now()
        if moment > now:
            return now
        if now - moment > CHANGED_SINCE_MAX - CHANGED_SINCE_MARGIN:
            return None  # too old for MoySklad: the full report instead
        return moment

    def _stock_filters(self, assortment_ids, store_ids):
        size = self.stock_ids_per_request
        assortment = [check_uuid(i, "assortment id") for i in assortment_ids or ()]
        stores = [check_uuid(i, "store id") for i in store_ids or ()]
        store_part = f"storeId={','.join(stores)}" if stores else ""
        if len(stores) > size:
            raise ValueError(f"At most {size} store ids per stock request")
        if not assortment:
            yield store_part or None
            return
        for start in range(0, len(assortment), size):
            part = f"assortmentId={','.join(assortment[start:start + size])}"
            yield f"{part};{store_part}" if store_part else part

    def stock_report_from_url(self, report_url, stock_type=None):
        """The report a stock webhook names (``reportUrl``): fetched only when it is a short
        stock report on this API (the token never leaves for another host)."""
        report_url = text(report_url)
        if not self._is_api_url(report_url):
            raise BadResponse("The stock report URL is not on the MoySklad API; not fetched")
        path = self._relative_path(report_url)
        if path not in ("report/stock/bystore/current", "report/stock/all/current"):
            raise BadResponse("The URL is not a MoySklad short stock report; not fetched")
        params = dict(parse_qsl(urlsplit(report_url).query))
        stock_type = stock_type or params.get("stockType") or "stock"
        document = self.get_json(path, params, endpoint=path)
        if not isinstance(document, list):
            raise BadResponse(f"MoySklad's {path} answer is not an array")
        rows, skipped = parse_stock_rows(document, stock_type)
        return MsStockReport(rows=rows, stock_type=stock_type, by_store="bystore" in path,
                             changed_since=None, full="changedSince" not in params,
                             skipped=skipped)  # fmt: skip

def _is_update(item):
    if isinstance(item, dict):
        return "meta" in item
    return bool(getattr(item, "href", ""))


class MsStockStream:
    """The rows of one type of short stock report, read as the answers arrive (one answer per
    group of ids asked). Iterate it once for lists of MsStockRow; ``full`` and
    ``changed_since`` as on MsStockReport; ``skipped``: rows left aside so far (no assortment
    id, a quantity that is no number)."""

    def __init__(self, client, path, params, filters, *, stock_type, by_store, changed_since,
                 batch):  # fmt: skip
        self._client = client
        self.path = path
        self._params = params
        self._filters = filters
        self.stock_type = stock_type
        self.by_store = by_store
        self.changed_since = changed_since
        self.full = changed_since is None
        self.batch = max(1, int(batch))
        self.skipped = 0

    def __iter__(self):
        pending = []
        for id_filter in self._filters:
            query = dict(self._params)
            if id_filter:
                query["filter"] = id_filter
            for element in self._client.stream_array(self.path, query, endpoint=self.path):
                pending.append(element)
                if len(pending) >= self.batch:
                    yield self._parse(pending)
                    pending = []
        if pending:
            yield self._parse(pending)

    def _parse(self, elements):
        rows, skipped = parse_stock_rows(elements, self.stock_type)
        self.skipped += skipped
        return rows
