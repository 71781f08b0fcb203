"""What every service adapter speaks: plain data in, plain data out.

The sync engine (models/) never sees a supplier's JSON and an API client (api/) never sees an Odoo
record: an adapter sits between them. It reads the connection's settings, builds the client, and
turns answers into the dataclasses below. Adding a service = one api/ client + one adapter here.
"""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class ItemRef:
    """One bound product as the engine hands it to an adapter."""

    binding_id: int
    code: str
    external_id: str = ""
    brand: str = ""


@dataclass
class OfferData:
    """One purchasable offer: a store / location with its stock and, where it differs, its price."""

    location_code: str
    location_name: str = ""
    location_type: str = ""
    quantity: float = 0.0
    price: float | None = None
    currency: str | None = None
    delivery_days: int | None = None
    delivery_label: str = ""
    stock_date: date | None = None
    external_offer_id: str = ""
    delivery_date: datetime | None = None
    shipping_date: datetime | None = None
    quantity_type: str = ""
    multiplicity: float = 0.0
    min_qty: float = 0.0
    max_qty: float = 0.0
    probability: float = 0.0
    return_allowed: bool = False
    warning: str = ""
    is_analog: bool = False


@dataclass
class ItemResult:
    """What a pull found for one bound product.

    ``state`` is one of ``ok``, ``not_found``, ``error``; an ``error`` or ``not_found`` result
    carries ``message`` and never wipes the last known price or stock (nothing is lost).
    ``offers`` is None when stock was not asked (keep the previous offers).
    """

    binding_id: int
    state: str = "ok"
    message: str = ""
    error_code: str = ""
    price: float | None = None
    price_with_vat: float | None = None
    price_tariff: float | None = None
    price_retail: float | None = None
    currency: str | None = None
    offers: list[OfferData] | None = None
    delivery_days: int | None = None
    delivery_label: str = ""
    unit: str = ""
    external_id: str = ""
    min_qty: float = 0.0


@dataclass
class BatchResult:
    """The outcome of one batch: per-item results, plus the error that stopped it, if any.

    An adapter that hits an error it cannot place on one item returns the results it already
    has and sets ``fatal``: the engine applies them and decides by the error's code whether the
    run stops (credentials, rate limit) or only this batch failed (its unanswered items are
    asked again in halves, see the sync engine). Adapters never classify errors themselves.
    """

    results: list[ItemResult] = field(default_factory=list)
    fatal: Exception | None = None


@dataclass
class CatalogueItem:
    """One line of a supplier's catalogue, used to map or create products."""

    external_id: str
    name: str = ""
    brand: str = ""
    article: str = ""
    client_code: str = ""
    category: str = ""


@dataclass
class ProductDetails:
    """A product card, used to enrich an Odoo product."""

    name: str = ""
    manufacturer: str = ""
    article: str = ""
    unit: str = ""
    country: str = ""
    characteristics: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    image: bytes | None = None
    image_error: Exception | None = None


class ServiceAdapter:
    """Base of the per-service adapters.

    ``operations`` lists what the service supports (keys of ``OPERATIONS`` in models); the
    engine and the views only offer those. ``batch_size`` is the default number of items per API
    batch; the connection can lower it.
    """

    service = None
    default_url = ""
    # Hosts (and their subdomains) files and images may come from besides the API host.
    default_trusted_hosts = ""
    batch_size = 50
    operations = ()
    # Operations run on a schedule by default: [(operation, {interval_number, interval_type,
    # enabled})] for the connection's schedule lines.
    default_schedules = ()
    # True when Test connection loads reference lists (agreements, addresses, statuses...).
    has_references = False
    # True when the service is reached with a login and password and keeps a session (a key-only
    # service hides them, and Reset session, from the form).
    uses_login = True
    # True when the service sells by offer (price per location): the engine then picks the
    # vendor price among the offers with the connection's rule.
    sells_by_offer = False
    # True when any subset of a batch can be asked on its own: the engine then halves a failed
    # batch to find the item at fault. False: a failed batch fails all its unanswered items.
    splits_batches = True

    def __init__(self, backend):
        # ``backend`` is a sudo()-ed supplier.backend: credentials are read here, never logged.
        self.backend = backend

    @property
    def client(self):
        if getattr(self, "_client", None) is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self):
        raise NotImplementedError

    def has_credentials(self):
        """True when the connection holds what a login needs (checked before Test connection)."""
        backend = self.backend
        return bool((backend.login and backend.password) or backend.api_key)

    def trusted_hosts(self):
        """The connection's download allow-list (its default when left empty)."""
        hosts = self.backend.trusted_hosts or self.default_trusted_hosts
        return tuple(h.strip() for h in hosts.split(",") if h.strip())

    def catalogue_code(self, item):
        """The code a mapping asks by, taken from a CatalogueItem."""
        return item.external_id

    def code_problem(self, code):
        """Why ``code`` cannot be sent to the service (a key of ``models/error_messages``'
        code problems), or None when it can. Checked when a mapping is saved."""
        return None

    def asks_by_article(self):
        """True when mappings are asked by the manufacturer's article (auto-mapping tries the
        product's article before its internal reference)."""
        return False

    def session_state(self):
        """The client's session after the calls, so the connection can reuse it next run."""
        client = getattr(self, "_client", None)
        return getattr(client, "session_state", None)

    def budget_state(self):
        """A request budget to persist on the connection between runs, if the service has one."""
        return None

    def budget_usage(self):
        """``[{"label", "seconds", "used", "limit", ...}]`` for the log: requests used against
        the limits, only when this adapter spent (or was refused) requests of the budget."""
        return []

    def request_stats(self):
        client = getattr(self, "_client", None)
        return dict(client.stats) if client is not None else {}

    def test_connection(self, sample_codes):
        """Log in and probe: ``{"session_reused": bool, "samples": n, "found": n or None}``."""
        raise NotImplementedError

    def pull_offers(self, items):
        """Prices and stock for ``items`` (list of ItemRef) → BatchResult."""
        raise NotImplementedError

    def check_codes(self, codes, brands):
        """Which of ``codes`` the service knows → ``{code: brand or ""}`` (auto-mapping).

        ``brands`` maps a code to the product's manufacturer, for services that identify an
        article by code and brand."""
        raise NotImplementedError

    def fetch_catalogue(self, job_state):
        """Start or continue a catalogue export. Returns (items or None, new job_state)."""
        raise NotImplementedError

    def product_details(self, code, external_id=None, brand=None):
        """A ProductDetails for one product (enrichment)."""
        raise NotImplementedError
