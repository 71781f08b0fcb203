"""ETM iPro adapter: prices in batches, remains per code, product cards, the SgGds catalogue.

Decisions where the ETM document is silent:
- Vendor price is ``price`` (without VAT); ``pricewnds``, ``price_tarif`` and ``price_retail`` are
  kept on the binding. ETM quotes roubles: currency RUB.
- Remains are asked one code at a time (the API takes one code there). A product whose price was
  found but whose remains answer 404 is still ``ok`` with no stock: ETM keeps stock only for items
  of the agreed store list.
- Binding stock = sum of the stores chosen on the connection (all stores until some are excluded);
  delivery days/label come from ``InforDeliveryTime`` (days "in presence").
- A price request that fails (a 400 for the batch, an unreadable answer, a 5xx after the
  retries) fails the batch; what was already answered is returned and applied, and the engine
  asks the rest again in halves, so one bad code never fails the 49 others (auto-mapping, outside
  the engine, still asks the codes of a rejected batch one by one).
"""

from ..api.errors import ApiError, NotFound, RequestRejected
from ..api.etm import ETM_DEFAULT_URL, EtmClient
from ..api.etm_data import etm_code_problem_key
from .base import (
    BatchResult,
    CatalogueItem,
    ItemResult,
    OfferData,
    ProductDetails,
    ServiceAdapter,
)

ITEM_LEVEL_ERRORS = (NotFound, RequestRejected)


class EtmAdapter(ServiceAdapter):
    service = "etm"
    default_url = ETM_DEFAULT_URL
    default_trusted_hosts = "etm.ru"
    batch_size = 50
    operations = ("sync_offers", "map_products", "import_catalogue", "enrich")
    default_schedules = (
        ("sync_offers", {"interval_number": 1, "interval_type": "hours", "enabled": True}),
        ("import_catalogue", {"interval_number": 7, "interval_type": "days", "enabled": False}),
    )

    def _build_client(self):
        backend = self.backend
        return EtmClient(
            base_url=backend.api_url or ETM_DEFAULT_URL,
            login=backend.login or "",
            password=backend.password or "",
            code_type=backend.etm_code_type or "etm",
            price_batch_size=backend.batch_size or self.batch_size,
            session_state=backend._get_session_state(),
            timeout=backend.timeout or 30,
            max_retries=backend.max_retries,
            rate_limit=backend.rate_limit or 0.0,
            allowed_hosts=self.trusted_hosts(),
        )

    # -- test connection ------------------------------------------------------------------
    def test_connection(self, sample_codes):
        client = self.client
        state = client.session_state
        reused = bool(state and state.token)
        client.ensure_session()
        found = len(client.get_prices(sample_codes)) if sample_codes else None
        return {"session_reused": reused, "samples": len(sample_codes), "found": found}

    # -- prices and stock -----------------------------------------------------------------
    def pull_offers(self, items):
        batch = BatchResult()
        client = self.client
        # Client codes and articles are matched to answer rows by their ETM code (the mapping's
        # external id once known; otherwise the client learns it from the product card).
        etm_codes = {item.code: item.external_id for item in items if item.external_id}
        try:
            prices = client.get_prices([item.code for item in items], etm_codes=etm_codes)
        except ApiError as exc:
            batch.fatal = exc
            return batch
        refused = dict(client.refused_codes)
        for item in items:
            price = prices.get(item.code)
            if item.code in refused:
                batch.results.append(ItemResult(
                    item.binding_id, state="error", error_code="unsafe_code",
                    # The reason's key: the Odoo side words it (models/error_messages.py).
                    message=etm_code_problem_key(item.code, client.code_type) or "",
                ))
                continue
            if price is None:
                batch.results.append(
                    ItemResult(item.binding_id, state="not_found", error_code="not_found")
                )
                continue
            result = ItemResult(
                item.binding_id,
                external_id=str(client.known_etm_codes.get(item.code) or item.external_id or ""),
                price=price.price,
                price_with_vat=price.price_with_vat,
                price_tariff=price.price_tariff,
                price_retail=price.price_retail,
                currency="RUB",
            )
            if self.backend.pull_stock:
                try:
                    self._add_remains(result, item.code)
                except ITEM_LEVEL_ERRORS as exc:
                    result.offers = []
                    result.error_code = "no_stock"
                    result.message = exc.detail or ""
                except ApiError as exc:
                    batch.fatal = exc
                    return batch
            batch.results.append(result)
        return batch

    def _prices_isolated(self, codes):
        try:
            return self.client.get_prices(codes)
        except RequestRejected:
            if len(codes) == 1:
                return {}
        prices = {}
        for code in codes:
            try:
                prices.update(self.client.get_prices([code]))
            except RequestRejected:
                continue
        return prices

    def _add_remains(self, result, code):
        remains = self.client.get_remains(code)
        result.unit = remains.unit or ""
        result.delivery_days = remains.delivery_days
        result.delivery_label = remains.delivery_label or ""
        result.offers = [
            OfferData(
                location_code=str(store.code),
                location_name=store.name or "",
                location_type=store.type or "",
                quantity=store.quantity or 0.0,
                delivery_days=remains.delivery_days,
                delivery_label=remains.delivery_label or "",
                stock_date=store.date,
            )
            for store in remains.stores
        ]

    # -- auto-mapping ---------------------------------------------------------------------
    def code_problem(self, code):
        return etm_code_problem_key(code, self.backend.etm_code_type or "etm")

    def asks_by_article(self):
        return self.backend.etm_code_type == "mnf"

    def catalogue_code(self, item):
        if self.backend.etm_code_type == "cli" and item.client_code:
            return item.client_code
        if self.backend.etm_code_type == "mnf" and item.article:
            return item.article
        return item.external_id

    def check_codes(self, codes, brands):
        return dict.fromkeys(self._prices_isolated(list(codes)), "")

    # -- SgGds catalogue ------------------------------------------------------------------
    def fetch_catalogue(self, job_uuid):
        """One step of the SgGds job: start it, or poll it; download the file once ready.

        Returns ``(items, job_uuid)``: items is None while ETM is still preparing the file.
        """
        client = self.client
        if not job_uuid:
            job_uuid = client.create_catalogue_job()
        job = client.get_job(job_uuid)
        if job.state == "2":
            raise RequestRejected(
                "ETM could not prepare the catalogue: %s" % (job.message or "no reason given"),
                detail=job.message or "",
            )
        if job.state != "1" or not job.urls:
            return None, job_uuid
        items = []
        for url in job.urls:
            items.extend(
                CatalogueItem(
                    external_id=str(row.etm_code),
                    name=row.name or "",
                    brand=row.brand or "",
                    article=row.article or "",
                    client_code=row.cli_code or "",
                    category=row.class_name or "",
                )
                for row in client.download_catalogue(url)
            )
        return items, False

    # -- enrichment -----------------------------------------------------------------------
    def product_details(self, code, external_id=None, brand=None):
        goods = self.client.get_goods(code)
        details = ProductDetails(
            name=goods.name or "",
            manufacturer=goods.manufacturer or "",
            article=goods.article or "",
            unit=goods.unit or "",
            country=goods.country or "",
            characteristics=list(goods.characteristics or []),
            description=goods.description or "",
        )
        for url in goods.image_urls or []:
            try:
                details.image = self.client.download_image(url)
                details.image_error = None
                break
            except ApiError as exc:
                details.image_error = exc
        return details
