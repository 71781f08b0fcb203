"""The Shate-M Plus emulator's account data: customer, agreements, delivery addresses and dates,
locations, status codes, trademarks; and the agreement/address look-ups other routes share.

Agreements carry their ``group`` (``agreementGroup``); orders on groups НАЛ, ЭКВАИР, МАГ need
``fio`` and ``phone`` (see :mod:`.shate_orders`). The demo's SAGR2 is such an agreement (НАЛ).

* availableDateTimes: one slot a day (not Sundays) at 15:00 local, from the earliest delivery
  from that location to that address, within ``daysCount`` (default 7) days; naive UTC times.
"""

from __future__ import annotations

import time
from urllib.parse import unquote

from .base import json_response
from .shate_answers import (
    DELIVERY_HOUR,
    address_row,
    agreement_row,
    delivery_time,
    iso_plain,
    location_row,
    shipping_time,
    status_code_rows,
    trademark_row,
)
from .shate_catalogue import ShateAddress, ShateAgreement
from .shate_requests import as_int, reject


class ShateAccountMixin:
    """Account routes of :class:`~.shate.ShateEmulator` (its ``agreements``, ``addresses``,
    ``locations``, ``customer``, ``catalogue``, ``clock``)."""

    def _agreement(self, code) -> ShateAgreement:
        if not code:
            if self.default_agreement_code not in self.agreements:
                raise reject(400, "DefaultAgreementNotFound", "Договор по умолчанию не найден",
                             "Внимание! Договор по умолчанию не найден. Пожалуйста, свяжитесь "
                             "с вашим менеджером.")
            return self.agreements[self.default_agreement_code]
        agreement = self.agreements.get(str(code))
        if agreement is None:
            raise reject(400, "AgreementNotFound", f"Договор {code} не найден")
        return agreement

    def _address(self, code) -> ShateAddress:
        """A delivery address by code; without one the customer's default (or the first)."""
        if code:
            address = self.addresses.get(str(code))
            if address is None:
                raise reject(400, "DeliveryAddressNotFound", f"Адрес доставки {code} не найден")
            return address
        address = self.addresses.get(str(self.customer.get("defaultDeliveryAddressCode")))
        address = address or next(iter(self.addresses.values()), None)
        if address is None:
            raise reject(400, "DeliveryAddressNotFound", "Адрес доставки не найден")
        return address

    def _agreements(self, request, login):
        return json_response([agreement_row(a) for a in self.agreements.values()])

    def _customer(self, request, login):
        return json_response([{"login": login, **self.customer}])

    def _addresses(self, request, login):
        return json_response([address_row(a) for a in self.addresses.values()])

    def _locations(self, request, login):
        return json_response([location_row(loc) for loc in self.locations.values()])

    def _status_codes(self, request, login):
        return json_response(status_code_rows())

    def _trademarks(self, request, login):
        rows = sorted(self.catalogue.trademarks.values(), key=lambda t: t.name)
        return json_response([trademark_row(t) for t in rows])

    def _trademark(self, request, login, name):
        trademark = self.catalogue.trademark(unquote(name))
        if trademark is None:
            raise reject(404, "TradeMarkNotFound", f"Торговая марка {unquote(name)} не найдена")
        return json_response(trademark_row(trademark))

    def _delivery_dates(self, request, login):
        query = {k: v[-1] for k, v in self._query(request).items()}
        location = self.locations.get(query.get("locationcode", ""))
        if location is None:
            raise reject(400, "LocationNotFound",
                         f"Склад {query.get('locationcode', '')!r} не найден")
        if not query.get("deliveryaddresscode"):
            raise reject(400, "InvalidRequest", "Не указан deliveryAddressCode")
        address = self._address(query["deliveryaddresscode"])
        days = as_int(query.get("dayscount") or 7)
        if days is None or not 1 <= days <= 60:
            raise reject(400, "InvalidRequest", "daysCount: от 1 до 60")
        now = self.clock()
        offset = self.utc_offset_hours * 3600
        earliest = delivery_time(shipping_time(now, location.lead_days, self.utc_offset_hours),
                                 address)
        first_day = (now + offset) // 86400
        slots = []
        for day in range(days):
            local = (first_day + day) * 86400 + DELIVERY_HOUR * 3600
            if local - offset >= earliest and time.gmtime(local).tm_wday != 6:
                slots.append(iso_plain(local - offset))
        return json_response(slots)
