"""IMSKLAD fulfilment warehouse adapter: stock pull, goods push, sale orders, supplier pre-orders
and stock documents.

Decisions:
- A binding's ``external_code`` is our good id (sent as ``id``, used in order lines); its
  ``external_id`` is IMSKLAD's id (returned by add_good, asked by get_stock).
- Stock: one offer per product at the connection's IMSKLAD location; its quantity is the free
  stock (stock − reserved). The reserve is kept visible in the offer's and binding's delivery
  label ("Reserved: N"), as the offer writer carries that field as it is.
- IMSKLAD quotes no prices: results carry no price, so vendor prices are left alone.
- A binding without an IMSKLAD id was never pushed: an item error, nothing is asked.
"""

from ..api.errors import ApiError
from ..api.imsklad import IMSKLAD_DEFAULT_URL, ImskladClient
from .base import BatchResult, ItemResult, OfferData, ServiceAdapter

DEFAULT_LOCATION_CODE = "IMSKLAD"


class ImskladAdapter(ServiceAdapter):
    service = "imsklad"
    default_url = IMSKLAD_DEFAULT_URL
    default_trusted_hosts = ""
    batch_size = 100
    operations = ("sync_offers", "push_products", "push_sale", "pull_billing", "push_documents")
    uses_login = False  # one API key per request, no session
    default_schedules = (
        ("sync_offers", {"interval_number": 1, "interval_type": "hours", "enabled": True}),
        ("pull_billing", {"interval_number": 1, "interval_type": "days", "enabled": True}),
    )

    def _build_client(self):
        backend = self.backend
        return ImskladClient(
            api_key=backend.api_key or "",
            base_url=backend.api_url or IMSKLAD_DEFAULT_URL,
            storage_id=backend.imsklad_storage_id or 1,
            stock_chunk_size=backend.batch_size or self.batch_size,
            timeout=backend.timeout or 30,
            max_retries=backend.max_retries,
            rate_limit=backend.rate_limit or 0.0,
        )

    def location(self):
        """(code, name) of the offers' location."""
        location = self.backend.imsklad_location_id
        if location:
            return location.code, location.name or location.code
        return DEFAULT_LOCATION_CODE, "IMSKLAD"

    # -- test connection ------------------------------------------------------------------
    def test_connection(self, sample_codes):
        self.client.check_key()
        return {"session_reused": False, "samples": 0, "found": None, "key_checked": True}

    # -- stock ----------------------------------------------------------------------------
    def pull_offers(self, items):
        batch = BatchResult()
        pushed = [item for item in items if item.external_id]
        for item in items:
            if not item.external_id:
                batch.results.append(ItemResult(
                    item.binding_id, state="error", error_code="not_pushed",
                ))
        if not pushed:
            return batch
        try:
            report = self.client.get_stock([item.external_id for item in pushed])
        except ApiError as exc:
            batch.fatal = exc
            return batch
        code, name = self.location()
        for item in pushed:
            stock = _stock_for(report, item.external_id)
            if stock is None:
                batch.results.append(ItemResult(
                    item.binding_id, state="not_found", error_code="not_found",
                ))
                continue
            label = f"Reserved: {stock.reserved}"
            batch.results.append(ItemResult(
                item.binding_id,
                delivery_label=label,
                offers=[OfferData(
                    location_code=code, location_name=name, location_type="fulfilment",
                    quantity=float(stock.free), delivery_label=label,
                )],
            ))
        return batch

    # -- goods push -----------------------------------------------------------------------
    def add_good(self, good):
        return self.client.add_good(good)

    def update_good(self, good):
        return self.client.update_good(good)

    # -- sale orders ----------------------------------------------------------------------
    def add_order(self, order):
        return self.client.add_order(order)

    def update_order(self, order):
        return self.client.update_order(order)

    # -- supplier pre-orders and stock documents (models/imsklad_purchase.py, _picking.py) -----
    def add_preorder(self, preorder):
        return self.client.add_preorder(preorder)

    def update_preorder(self, preorder):
        return self.client.update_preorder(preorder)

    def add_doc(self, doc):
        return self.client.add_doc(doc)

    def update_doc(self, doc):
        return self.client.update_doc(doc)


def _stock_for(report, external_id):
    try:
        return report.stocks.get(int(external_id))
    except (TypeError, ValueError):
        return None
