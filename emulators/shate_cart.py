"""The Shate-M Plus emulator's cart (``/cartitems``): lines added from priceIds, changed, removed.

* Cart: a line per POST (the same offer twice gives two lines); POST takes an object (answers
  one line) or an array (answers a list); a stale priceId → 400 PriceIsOutdated. PATCH ``price``
  sets the price the customer agreed to, which the order then checks like a stale price.
  DELETE answers 204. GET without ``agreementCode`` lists the default agreement's lines.
"""

from __future__ import annotations

from dataclasses import replace

from .base import Response, json_response
from .shate_answers import (
    CartItem,
    article_row,
    cart_item_row,
    delivery_time,
    quantity_errors,
    shipping_time,
)
from .shate_catalogue import ShateAddress
from .shate_requests import as_int, reject


class ShateCartMixin:
    """Cart routes of :class:`~.shate.ShateEmulator` (its ``_cart``, ``_prices``, ``_offer_now``,
    ``_stale``, ``_agreement``, ``_address``)."""

    def _cart_row(self, item: CartItem, address: ShateAddress, now: float) -> dict:
        _article, offer = self._offer_now(item.record)
        offer = offer or replace(item.offer, available=0)
        shipped = shipping_time(now, offer.shipping_days, self.utc_offset_hours)
        return cart_item_row(item, item.article, offer, self.agreements[item.record.agreement_code],
                             self.locations.get(offer.location_code_real),
                             delivery_time(shipped, address), shipped, self.margin)

    def _cart_item(self, login, item_id) -> CartItem:
        item = self._cart.get(as_int(item_id))
        if item is None or item.login != login:
            raise reject(404, "CartItemNotFound", f"Строка корзины {item_id} не найдена")
        return item

    def _cart_list(self, request, login):
        query = {k: v[-1] for k, v in self._query(request).items()}
        agreement = self._agreement(query.get("agreementcode"))
        address = self._address(query.get("deliveryaddresscode"))
        now = self.clock()
        with self.lock:
            items = [i for i in self._cart.values()
                     if i.login == login and i.record.agreement_code == agreement.code]
            return json_response([self._cart_row(i, address, now) for i in items])

    def _cart_get(self, request, login, item_id):
        query = {k: v[-1] for k, v in self._query(request).items()}
        address = self._address(query.get("deliveryaddresscode"))
        with self.lock:
            return json_response(self._cart_row(self._cart_item(login, item_id), address,
                                                self.clock()))

    def _cart_add(self, request, login):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) for i in items):
            raise reject(400, "InvalidRequest", "Ожидается объект с priceId и quantity")
        now = self.clock()
        with self.lock:
            new = []
            for item in items:
                record = self._prices.get(str(item.get("priceid") or ""))
                if record is None or record.login != login:
                    raise reject(404, "PriceNotFound", "Ценовое предложение не найдено")
                article, offer = self._offer_now(record)
                if offer is None:
                    raise reject(404, "PriceNotFound", "Ценовое предложение больше недоступно")
                if self._stale(record, offer, now):
                    raise reject(400, "PriceIsOutdated",
                                 "Ценовое предложение устарело. Выполните проценку повторно")
                errors = quantity_errors(item.get("quantity"), offer)
                if errors:
                    raise reject(400, "InvalidQuantity", "Некорректное количество", *errors)
                new.append(CartItem(0, login, record, offer, article_row(article),
                                    item["quantity"], record.price,
                                    str(item.get("comment") or ""), now))
            for cart_item in new:
                self._seq["cart"] += 1
                cart_item.id = self._seq["cart"]
                self._cart[cart_item.id] = cart_item
            address = self._address(None)
            rows = [self._cart_row(i, address, now) for i in new]
        return json_response(rows if isinstance(body, list) else rows[0])

    def _cart_patch(self, request, login, item_id):
        body = self._body(request)
        if not isinstance(body, dict):
            raise reject(400, "InvalidRequest", "Ожидается объект")
        with self.lock:
            item = self._cart_item(login, item_id)
            if body.get("quantity") is not None:
                _article, offer = self._offer_now(item.record)
                errors = quantity_errors(body["quantity"], offer or item.offer)
                if errors:
                    raise reject(400, "InvalidQuantity", "Некорректное количество", *errors)
                item.quantity = body["quantity"]
            price = body.get("price")
            if price is not None:
                if isinstance(price, bool) or not isinstance(price, (int, float)) or price <= 0:
                    raise reject(400, "InvalidRequest", "Некорректная цена")
                item.price = round(float(price), 2)
            if body.get("comment") is not None:
                item.comment = str(body["comment"])
            return json_response(self._cart_row(item, self._address(None), self.clock()))

    def _cart_delete(self, request, login, item_id):
        with self.lock:
            self._cart.pop(self._cart_item(login, item_id).id)
        return Response(204)

    def _cart_clear(self, request, login):
        with self.lock:
            for item_id in [i.id for i in self._cart.values() if i.login == login]:
                del self._cart[item_id]
        return Response(204)
