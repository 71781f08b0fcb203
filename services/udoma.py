"""UDOMA marketplace adapter: catalogue and per-shop prices and stock pushed, orders pulled.

The models (models/udoma_*.py) build the items and rows and apply the results; this adapter
only builds the client from the connection's settings (API key, version, batch size) and hands
the calls over. Test connection: ``check_key`` (a read-only ``export-orders`` over an empty
window, see api/udoma.py), for the first shop when there is one, so a shop id UDOMA does not
know shows too.
"""

from ..api.udoma import UDOMA_DEFAULT_URL, UdomaClient
from .base import ServiceAdapter


class UdomaAdapter(ServiceAdapter):
    service = "udoma"
    default_url = UDOMA_DEFAULT_URL
    default_trusted_hosts = ""
    batch_size = 500
    operations = ("push_products", "push_assortment", "pull_orders")
    uses_login = False
    default_schedules = (
        ("push_products", {"interval_number": 1, "interval_type": "hours", "enabled": True}),
        ("push_assortment", {"interval_number": 15, "interval_type": "minutes", "enabled": True}),
        ("pull_orders", {"interval_number": 10, "interval_type": "minutes", "enabled": True}),
    )

    def _build_client(self):
        backend = self.backend
        return UdomaClient(
            base_url=backend.api_url or UDOMA_DEFAULT_URL,
            api_key=backend.api_key or "",
            version=backend.udoma_api_version or "v2",
            chunk_size=backend.batch_size or self.batch_size,
            timeout=backend.timeout or 30,
            max_retries=backend.max_retries,
            rate_limit=backend.rate_limit or 0.0,
        )

    def has_credentials(self):
        return bool(self.backend.api_key)

    def test_connection(self, shop_code):
        return self.client.check_key(shop_code or None)

    def check_shop(self, shop_code):
        """True when UDOMA knows the shop, None when it cannot tell; ShopNotFound otherwise."""
        return self.client.check_shop(shop_code)

    def import_nomenclature(self, items, shop_source_id=None, turn_off_missing=False):
        return self.client.import_nomenclature(
            items, shop_source_id=shop_source_id, turn_off_missing=turn_off_missing,
        )

    def import_assortment(self, shop_source_id, rows, turn_off_missing=False):
        return self.client.import_assortment(
            shop_source_id, rows, turn_off_missing=turn_off_missing,
        )

    def export_orders(self, shop_source_id, date_from, date_to):
        return self.client.export_orders(shop_source_id, date_from, date_to)
