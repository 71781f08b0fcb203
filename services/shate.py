"""Shate-M Plus adapter: article ids by code + brand, offers per location, the price budget.

Decisions where the document is silent (the client's docstring has the protocol ones):
- A binding is identified by article code (``external_code``) + trade mark (``external_brand``);
  the Shate ``articleId`` is resolved with ``articles/search`` the first time and kept as
  ``external_id``. No match → ``not_found``; several articles and no brand to decide → ``error``
  with the brands found, so the user fixes the brand.
- Offers are returned with their own price, currency, stock and delivery; which one becomes the
  vendor price is decided by the engine from the connection's rule (cheapest / fastest /
  cheapest within N days) among the allowed locations, so the rule is the same for every service
  that sells by offer.
- The price budget (2,000 per 15 min, 120,000 per day by default) is persisted on the connection
  between runs; a run that exhausts it stops cleanly and the next one continues stalest first.
  A server 429 is treated alike: a Retry-After over 30 s stops the run instead of waiting.
"""

from ..api.errors import ApiError, NotFound
from ..api.rate_budget import RateBudget
from ..api.shate import SHATE_DEFAULT_URL, SHATE_HOSTS, ShateClient
from ..api.shate_data import ShateOrderLine, price_change
from .base import BatchResult, ItemResult, OfferData, ProductDetails, ServiceAdapter


class ShateOrderMixin:
    """Purchase orders: send by price offer, find an order already sent, read statuses."""

    def find_sent_order(self, key, since):
        """The order whose comment is ``key`` among the orders since ``since``, if any.

        Every order is sent with its idempotency key as comment: before sending (again), this
        look-up tells whether a previous attempt did create it (a timeout, a crash after the
        request left). Only then is a new order sent.
        """
        for order in self.client.iter_orders(start=since, page_size=100, max_pages=20):
            if (order.comment or "").strip() == key:
                return order
        return None

    def send_order(self, key, lines, *, accept_terms, accept_personal_data):
        """``lines``: [(price_id, quantity)] of one location → ShateOrderResult (sent once)."""
        backend = self.backend
        needs_contact = backend.shate_agreement_id.needs_contact
        return self.client.order_by_price_items(
            agreement_code=backend.shate_agreement_id.code or None,
            delivery_address_code=backend.shate_delivery_address_id.code or None,
            lines=[ShateOrderLine(price_id, quantity, key) for price_id, quantity in lines],
            agree_with_terms_of_delivery=accept_terms,
            agree_with_personal_data_policy=accept_personal_data,
            comment=key,
            # Cash, card-acquiring and shop agreements need the buyer (document, 10.2).
            fio=backend.shate_contact_name or None if needs_contact else None,
            phone=backend.shate_contact_phone or None if needs_contact else None,
        )

    def orders_by_id(self, order_ids):
        return {order.id: order for order in self.client.get_orders(
            order_ids=order_ids, page_size=max(len(order_ids), 1)
        )}

    def item_history(self, item_id):
        return self.client.get_order_item_history(item_id)

    @staticmethod
    def price_change(warning):
        """(old, new) when an order warning reports a price change, else None."""
        return price_change(warning)


class ShateAdapter(ShateOrderMixin, ServiceAdapter):
    service = "shate"
    default_url = SHATE_DEFAULT_URL
    default_trusted_hosts = ", ".join(SHATE_HOSTS)
    batch_size = 20
    operations = ("sync_offers", "map_products", "enrich", "push_purchase", "pull_order_status")
    default_schedules = (
        ("sync_offers", {"interval_number": 1, "interval_type": "hours", "enabled": True}),
        ("pull_order_status", {"interval_number": 30, "interval_type": "minutes", "enabled": True}),
    )
    sells_by_offer = True
    has_references = True
    _asked_prices = False

    def _build_client(self):
        backend = self.backend
        client = ShateClient(
            api_key=backend.api_key or None,
            login=backend.login or None,
            password=backend.password or None,
            base_url=backend.api_url or SHATE_DEFAULT_URL,
            session_state=backend._get_session_state(),
            price_budget=self._budget(),
            price_batch_size=min(backend.batch_size or self.batch_size, 20),
            agreement_code=backend.shate_agreement_id.code or None,
            delivery_address_code=backend.shate_delivery_address_id.code or None,
            timeout=backend.timeout or 30,
            max_retries=backend.max_retries,
            rate_limit=backend.rate_limit or 0.0,
            allowed_hosts=self.trusted_hosts(),
        )
        # A 429 is the server's limit: wait a short Retry-After out, otherwise stop the run
        # cleanly (the next one continues stalest first) instead of holding a worker for minutes.
        client.max_retry_after = 30
        return client

    def _budget(self):
        backend = self.backend
        windows = tuple(
            (count, seconds)
            for count, seconds in ((backend.price_limit_15min, 900), (backend.price_limit_day, 86400))
            if count
        )
        if not windows:
            return None
        return RateBudget.from_dict(backend.price_budget_state or None, windows=windows)

    def budget_state(self):
        budget = self.client.price_budget if getattr(self, "_client", None) else None
        return budget.to_dict() if budget else None

    def budget_usage(self):
        # Only a run that asked for prices reports the budget (not order status, nor a run
        # whose articles were all unknown).
        if not getattr(self, "_asked_prices", False):
            return []
        budget = self.client.price_budget if getattr(self, "_client", None) else None
        return budget.usage() if budget else []

    # -- test connection: what the administrator picks from ---------------------------------
    def test_connection(self, sample_codes):
        client = self.client
        state = client.session_state
        reused = bool(state and state.token_valid(client.now()))
        client.ensure_token()
        references = {
            "agreement": [
                (a.code, " · ".join(filter(None, [a.code, a.description, a.currency_code])),
                 {"currency": a.currency_code, "active": a.is_active,
                  "needs_contact": a.needs_contact})
                for a in client.get_agreements()
            ],
            "delivery_address": [
                (a.code, " · ".join(filter(None, [a.code, a.city, a.address])), {})
                for a in client.get_delivery_addresses()
            ],
            "status": [
                (str(s.code), s.name or str(s.code), {"final": s.is_final})
                for s in client.get_order_item_status_codes()
            ],
        }
        locations = [(loc.code, loc.name or loc.code) for loc in client.get_locations()]
        return {
            "session_reused": reused,
            "samples": 0,
            "found": None,
            "references": references,
            "locations": locations,
        }

    # -- offers -----------------------------------------------------------------------------
    def pull_offers(self, items):
        batch = BatchResult()
        try:
            resolved = self._resolve(items, batch)
            self._asked_prices = self._asked_prices or bool(resolved)
            offers = self.client.search_prices(
                [article_id for article_id in resolved.values()],
                include_analogs=self.backend.shate_include_analogs,
            ) if resolved else {}
        except ApiError as exc:
            batch.fatal = exc
            return batch
        for item in items:
            article_id = resolved.get(item.binding_id)
            if article_id is None:
                continue
            found = offers.get(article_id, [])
            result = ItemResult(item.binding_id, external_id=str(article_id), offers=[
                self._offer(offer) for offer in found
            ])
            if not found:
                result.error_code = "no_offers"
            batch.results.append(result)
        return batch

    def _resolve(self, items, batch):
        """binding id → article id; bindings that cannot be resolved get their result here."""
        resolved = {item.binding_id: item.external_id for item in items if item.external_id}
        pending = [item for item in items if not item.external_id]
        if not pending:
            return resolved
        keys = [(item.code, item.brand or "") for item in pending]
        found = self.client.search_articles(keys)
        for item, key in zip(pending, keys, strict=True):
            articles = found.get(key) or []
            if len(articles) == 1:
                resolved[item.binding_id] = articles[0].id
            elif not articles:
                batch.results.append(
                    ItemResult(item.binding_id, state="not_found", error_code="not_found")
                )
            else:
                brands = ", ".join(sorted({a.trade_mark_name for a in articles}))
                batch.results.append(ItemResult(
                    item.binding_id, state="error", error_code="ambiguous", message=brands
                ))
        return resolved

    @staticmethod
    def _offer(offer):
        return OfferData(
            location_code=offer.location_code or "",
            location_name=offer.location_name or offer.location_code or "",
            quantity=offer.quantity or 0.0,
            price=offer.price,
            currency=offer.currency_code,
            delivery_days=offer.delivery_days,
            delivery_date=offer.delivery_date,
            shipping_date=offer.shipping_date,
            external_offer_id=offer.price_id or "",
            quantity_type=offer.quantity_type or "",
            multiplicity=offer.multiplicity or 0.0,
            min_qty=offer.min_quantity or 0.0,
            max_qty=offer.max_quantity or 0.0,
            location_type=offer.offer_type or "",
            probability=offer.supply_probability or 0.0,
            return_allowed=bool(offer.return_allowed),
            warning=offer.warning_text or "",
            is_analog=bool(offer.is_analog),
        )

    # -- auto-mapping: codes known to Shate (by article + brand) ----------------------------
    def check_codes(self, codes, brands):
        """Codes with exactly one article (under the product's brand when it has one)."""
        found = self.client.search_articles([(code, brands.get(code, "")) for code in codes])
        return {
            code: articles[0].trade_mark_name or ""
            for (code, _brand), articles in found.items() if len(articles) == 1
        }

    # -- enrichment -------------------------------------------------------------------------
    def product_details(self, code, external_id=None, brand=None):
        client = self.client
        include = ("extended_info", "trademark", "contents")
        if external_id:
            article = client.get_article(int(external_id), include=include)
        else:
            matches = client.search_articles([(code, brand or "")], include=include)
            articles = matches.get((code, brand or "")) or []
            if len(articles) != 1:
                raise NotFound("Shate-M has no single article for this code and brand")
            article = articles[0]
        info = article.extended_info
        details = ProductDetails(
            name=article.name or "",
            manufacturer=article.trade_mark_name or "",
            article=article.code or "",
            unit=article.unit_of_measure or "",
            description=(info.description if info else "") or article.description or "",
            characteristics=list(info.characteristics) if info else [],
        )
        content_ids = [ref.content_id for ref in article.contents or []]
        if content_ids:
            try:
                contents = client.search_content(content_ids[:1])
                content = contents.get(content_ids[0])
                details.image = client.content_bytes(content) if content else None
            except ApiError as exc:
                details.image_error = exc
        return details
