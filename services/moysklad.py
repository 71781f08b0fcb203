"""MoySklad adapter: reference lists, the assortment page by page, stock per store, units used.

Decisions where the documents are silent (the client's docstring has the protocol ones):
- Credentials: login + password (Basic, to obtain a token once) or a pasted token in the
  connection's ``api_key`` (the credential row, system administrators only). The token the
  client obtains is the connection's ``session_token`` and is reused by every run and worker
  until MoySklad refuses it; ``session_state`` is persisted after every run (SyncRun).
- A binding's ``external_id`` is the MoySklad id of the product or variant; its
  ``external_code`` is MoySklad's ``externalCode`` (MoySklad fills one in for every object), or
  the code / article / id when an answer carries none.
- Stock: one ``supplier.offer`` per store; its quantity is the free stock (stock − reserve),
  the label says stock, reserve and in transit. The binding's total is the sum over the stores
  "used for stock" (the offer writer).
- ``pull_offers`` (a product's Sync button) asks only the stock of the products asked (three
  short reports filtered by id); prices come with the catalogue pass (``entity/assortment``),
  which is the cheapest way to read them for a whole account.
- The units used by a run (requests × weight, stock reports 5) are written to the sync log.
"""

from ..api.moysklad import MOYSKLAD_DEFAULT_URL, MOYSKLAD_HOSTS, MoySkladClient
from ..api.moysklad_limits import default_weight
from .base import BatchResult, ItemResult, OfferData, ServiceAdapter

STOCK_TYPES = ("stock", "reserve", "inTransit")
# The main image of a product is downloaded up to this size (MoySklad allows 10 MB files).
IMAGE_MAX_BYTES = 10 * 1024 * 1024


def offer_from_stock(store_id, store_name, values):
    """OfferData of one store from ``{stock type: Decimal or None}``."""
    stock = float(values.get("stock") or 0)
    reserve = float(values.get("reserve") or 0)
    in_transit = float(values.get("inTransit") or 0)
    label = f"Stock: {stock:g} · Reserved: {reserve:g} · In transit: {in_transit:g}"
    return OfferData(
        location_code=store_id,
        location_name=store_name or store_id,
        location_type="store",
        quantity=max(stock - reserve, 0.0),
        delivery_label=label,
    )


class MoySkladAdapter(ServiceAdapter):
    service = "moysklad"
    default_url = MOYSKLAD_DEFAULT_URL
    default_trusted_hosts = ", ".join(MOYSKLAD_HOSTS)
    batch_size = 1000
    operations = ("sync_offers", "import_catalogue", "push_products", "pull_orders")
    default_schedules = (
        ("import_catalogue", {"interval_number": 1, "interval_type": "hours", "enabled": True}),
        ("sync_offers", {"interval_number": 30, "interval_type": "minutes", "enabled": True}),
    )
    has_references = True
    # A short stock report answers for any set of ids: a failed batch can be halved.
    splits_batches = True

    def _build_client(self):
        backend = self.backend
        return MoySkladClient(
            base_url=backend.api_url or MOYSKLAD_DEFAULT_URL,
            login=backend.login or "",
            password=backend.password or "",
            token=backend.api_key or "",
            session_state=backend._get_session_state(),
            token_kind=backend.moysklad_token_kind or "user",
            request_weight=backend.moysklad_request_weight or None,
            timeout=backend.timeout or 30,
            max_retries=backend.max_retries,
            allowed_hosts=self.trusted_hosts(),
            webhook_quiet_prefix=backend._moysklad_webhook_prefix(),
        )

    def has_credentials(self):
        backend = self.backend
        return bool((backend.login and backend.password) or backend.api_key)

    @staticmethod
    def documented_weight(token_kind):
        return default_weight(token_kind or "user")

    # -- log ------------------------------------------------------------------------------------
    def usage(self):
        client = getattr(self, "_client", None)
        return client.usage() if client is not None else None

    def tokens_issued(self):
        client = getattr(self, "_client", None)
        return client.tokens_issued if client is not None else 0

    # -- test connection ------------------------------------------------------------------------
    def test_connection(self, sample_codes):
        client = self.client
        reused = bool(client.session_state and client.session_state.token) or (
            not client.can_login and bool(self.backend.api_key)
        )
        reference = client.reference()
        return {
            "session_reused": reused and not client.tokens_issued,
            "samples": 0,
            "found": None,
            "reference": reference,
        }

    # -- catalogue ------------------------------------------------------------------------------
    def iter_assortment(self, updated_since=None):
        """MsPage per page of products and variants changed since ``updated_since``."""
        return self.client.iter_assortment(updated_since=updated_since)

    def list_uoms(self):
        return self.client.list_uoms()

    def list_images(self, entity_id, kind="product"):
        return self.client.list_images(entity_id, entity_type=kind or "product")

    def download_image(self, image):
        return self.client.download_image(image, max_bytes=IMAGE_MAX_BYTES,
                                          allowed_hosts=self.trusted_hosts())

    # -- stock ----------------------------------------------------------------------------------
    def stock_by_store(self, changed_since=None, assortment_ids=None):
        """``({(assortment id, store id): {type: qty}}, full)``: full False when only changes."""
        merged, reports = self.client.stock_by_store(
            types=STOCK_TYPES, changed_since=changed_since, assortment_ids=assortment_ids,
        )
        return merged, all(report.full for report in reports)

    def pull_offers(self, items):
        batch = BatchResult()
        linked = [item for item in items if item.external_id]
        for item in items:
            if not item.external_id:
                batch.results.append(
                    ItemResult(item.binding_id, state="error", error_code="ms_not_linked")
                )
        if not linked:
            return batch
        try:
            merged, _full = self.stock_by_store(
                assortment_ids=[item.external_id for item in linked]
            )
        except Exception as exc:  # noqa: BLE001 — the engine classifies it (run or batch)
            batch.fatal = exc
            return batch
        names = {loc.code: loc.name for loc in self.backend.location_ids}
        per_item = {}
        for (assortment_id, store_id), values in merged.items():
            per_item.setdefault(assortment_id, []).append(
                offer_from_stock(store_id, names.get(store_id), values)
            )
        for item in linked:
            batch.results.append(ItemResult(
                item.binding_id, external_id=item.external_id,
                offers=per_item.get(item.external_id, []),
            ))
        return batch
