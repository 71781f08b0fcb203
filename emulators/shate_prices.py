"""The Shate-M Plus emulator's offers and price search: offers changed by the tests, priceIds
issued per offer (they go stale: see :mod:`.shate_orders`), the price request limits.

* Prices: the body is one object or an array of them (field notes); ≤ ``max_price_articles``
  (default 100) elements. ``deliveryAddressCode`` may be a string or a list (also
  ``deliveryAddressCodes``); without it the customer's default address is used. Without
  ``agreementCode`` the default agreement is (none configured → 400 DefaultAgreementNotFound).
  ``require_agreement_and_address=True`` answers ``[]`` for elements lacking either (field notes).
  Unknown articleId → no offers. Offers with nothing available are not offered; own stock
  comes first (``priority``); ``supplyProbability`` is null for own stock. ``valueWithMargin``
  applies ``margin`` (default 0). Each offer gets a fresh 128-hex ``id`` (the priceId).
* Rate limits (document, preamble): price requests count one per requested article, per login,
  in fixed 15-minute windows (``price_requests_per_15min``, default 2000) and per local day
  (``price_requests_per_day``, default 120000; the day ends at midnight UTC+``utc_offset_hours``,
  default 3). Over a limit → 429 ``TooManyRequests`` with ``Retry-After`` (seconds to the end of
  the window or of the day); a refused request counts nothing. Other methods are not limited.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Iterable
from dataclasses import replace

from .base import Response, json_response
from .shate_answers import (
    PriceRecord,
    article_row,
    delivery_time,
    error_body,
    offer_row,
    shipping_time,
)
from .shate_catalogue import ShateAgreement, ShateArticle, ShateOffer
from .shate_demo import DEMO_LOGIN
from .shate_requests import as_int, reject, split_values


class ShatePricesMixin:
    """Offer and price routes of :class:`~.shate.ShateEmulator` (its ``catalogue``, ``lock``,
    ``clock``, ``_prices``, ``_price_usage``, ``_agreement``, ``_address``)."""

    def set_offer(self, article_id: int, location_code_real: str, **changes) -> ShateOffer:
        """Change one offer (``ShateOffer`` field names); its priceIds go stale."""
        with self.lock:
            article = self.catalogue[int(article_id)]
            old = article.offer(location_code_real)
            if old is None:
                raise KeyError(f"article {article_id} has no offer at {location_code_real}")
            new = replace(old, **changes, version=old.version + 1)
            offers = tuple(new if o is old else o for o in article.offers)
            self.catalogue.add(replace(article, offers=offers))
            return new

    def add_offer(self, article_id: int, offer: ShateOffer) -> ShateOffer:
        with self.lock:
            article = self.catalogue[int(article_id)]
            offers = tuple(o for o in article.offers
                           if o.location_code_real != offer.location_code_real)
            self.catalogue.add(replace(article, offers=offers + (offer,)))
            return offer

    def remove_offer(self, article_id: int, location_code_real: str) -> bool:
        with self.lock:
            article = self.catalogue[int(article_id)]
            offers = tuple(o for o in article.offers if o.location_code_real != location_code_real)
            self.catalogue.add(replace(article, offers=offers))
            return len(offers) != len(article.offers)

    def reprice(self, factor: float = 1.0, article_ids: Iterable[int] | None = None) -> int:
        """Multiply offer prices by ``factor`` (all articles or ``article_ids``) and make every
        priceId issued for them stale. Returns the number of offers changed."""
        changed = 0
        with self.lock:
            ids = list(self.catalogue) if article_ids is None else [int(i) for i in article_ids]
            for article_id in ids:
                article = self.catalogue.get(article_id)
                if article is None or not article.offers:
                    continue
                offers = tuple(replace(o, price=round(o.price * factor, 2), version=o.version + 1)
                               for o in article.offers)
                self.catalogue.articles[article_id] = replace(article, offers=offers)
                changed += len(offers)
        return changed

    def expire_prices(self) -> int:
        """Every priceId issued so far goes stale; prices stay."""
        return self.reprice(1.0)

    def issued_price(self, price_id: str) -> PriceRecord | None:
        return self._prices.get(price_id)

    def _price_for(self, offer: ShateOffer, agreement: ShateAgreement) -> float:
        return round(offer.price * agreement.price_factor, 2)

    def _stale(self, record: PriceRecord, offer: ShateOffer, now: float) -> bool:
        return record.version != offer.version or (
            self.price_ttl is not None and now - record.issued_at >= self.price_ttl)

    def _issue(self, login: str, article: ShateArticle, offer: ShateOffer,
               agreement: ShateAgreement, now: float) -> PriceRecord:
        """A new priceId for an offer (under the lock)."""
        self._price_seq += 1
        price_id = hashlib.sha512(self._secret + self._price_seq.to_bytes(8, "big")).hexdigest()
        key = f"{article.id}|{offer.location_code_real}|{agreement.code}|{offer.version}"
        record = PriceRecord(price_id.upper(), login, article.id, offer.location_code,
                             offer.location_code_real, agreement.code, offer.version,
                             self._price_for(offer, agreement), now,
                             zlib.crc32(key.encode()) & 0x7FFFFFFF)
        self._prices[record.price_id] = record
        if len(self._prices) > self.max_price_records:
            self._prices.popitem(last=False)
        return record

    def _offer_now(self, record: PriceRecord) -> tuple[ShateArticle | None, ShateOffer | None]:
        article = self.catalogue.get(record.article_id)
        offer = article.offer(record.location_code_real) if article else None
        return article, (offer if offer is not None and offer.available > 0 else None)

    # -- price requests and their limits -----------------------------------------------------
    def price_requests_used(self, login: str = DEMO_LOGIN) -> dict[str, int]:
        """Price requests counted for ``login`` in the current 15-minute window and day."""
        now = self.clock()
        usage = self._price_usage.get(login)
        window, day = int(now // 900), int((now + self.utc_offset_hours * 3600) // 86400)
        return {"15min": usage[1] if usage and usage[0] == window else 0,
                "day": usage[3] if usage and usage[2] == day else 0}

    def reset_price_limits(self):
        with self.lock:
            self._price_usage.clear()

    def _consume_price_units(self, login: str, units: int) -> Response | None:
        now = self.clock()
        local = now + self.utc_offset_hours * 3600
        window, day = int(now // 900), int(local // 86400)
        with self.lock:
            usage = self._price_usage.setdefault(login, [window, 0, day, 0])
            if usage[0] != window:
                usage[0:2] = [window, 0]
            if usage[2] != day:
                usage[2:4] = [day, 0]
            if (self.price_requests_per_day is not None
                    and usage[3] + units > self.price_requests_per_day):
                wait, limit, period = (day + 1) * 86400 - local, self.price_requests_per_day, "день"
            elif (self.price_requests_per_15min is not None
                    and usage[1] + units > self.price_requests_per_15min):
                wait, limit, period = (window + 1) * 900 - now, self.price_requests_per_15min, \
                    "15 минут"
            else:
                usage[1] += units
                usage[3] += units
                return None
        retry_after = max(1, math.ceil(wait))
        body = error_body("TooManyRequests", "Превышен лимит запросов проценки",
                          f"Превышен лимит запросов проценки: {limit} за {period}. "
                          f"Повторите запрос через {retry_after} с или обратитесь к Вашему "
                          "менеджеру.")
        return json_response(body, 429, {"Retry-After": str(retry_after)})

    def _prices_flat(self, request, login):
        return self._price_search(request, login, grouped=False)

    def _prices_grouped(self, request, login):
        return self._price_search(request, login, grouped=True)

    def _price_search(self, request, login, grouped):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) for i in items):
            raise reject(400, "InvalidRequest", "Ожидается объект или массив объектов")
        if len(items) > self.max_price_articles:
            raise reject(400, "TooManyItems",
                         f"Не более {self.max_price_articles} артикулов в запросе")
        asked = []
        for item in items:
            article_id = as_int(item.get("articleid"))
            if article_id is None:
                raise reject(400, "InvalidRequest", "Не указан articleId")
            agreement_code = item.get("agreementcode")
            codes = split_values(item.get("deliveryaddresscodes") or item.get("deliveryaddresscode"))
            if self.require_agreement_and_address and not (agreement_code and codes):
                continue
            addresses = [self._address(c) for c in codes] or [self._address(None)]
            asked.append((article_id, self._agreement(agreement_code), addresses,
                          item.get("includeanalogs") in (True, "true", "True")))
        limited = self._consume_price_units(login, len(items))
        if limited is not None:
            return limited
        now = self.clock()
        rows: list = []
        with self.lock:
            for article_id, agreement, addresses, analogs in asked:
                article = self.catalogue.get(article_id)
                if article is None:
                    continue
                for other in [article_id, *(article.analogs if analogs else ())]:
                    found = self.catalogue.get(other)
                    if found is None:
                        continue
                    offers = self._offer_rows(login, found, agreement, addresses, now)
                    if not grouped:
                        rows.extend(offers)
                    elif offers or other == article_id:
                        rows.append({"article": article_row(found), "prices": offers})
        return json_response(rows)

    def _offer_rows(self, login, article, agreement, addresses, now) -> list[dict]:
        offers = sorted((o for o in article.offers if o.available > 0),
                        key=lambda o: (o.type != "Internal", o.shipping_days, o.price))
        rows = []
        for priority, offer in enumerate(offers, 1):
            record = self._issue(login, article, offer, agreement, now)
            shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
            deliveries = [(a.code, delivery_time(shipped, a)) for a in addresses]
            rows.append(offer_row(record, offer, agreement,
                                  self.locations.get(offer.location_code_real), deliveries,
                                  shipped, priority, self.margin, now))
        return rows
