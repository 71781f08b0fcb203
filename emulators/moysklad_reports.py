"""Current stock of the MoySklad emulator: ``report/stock/bystore/current`` and
``report/stock/all/current`` from the stock kept per (assortment, store).

* Each (assortment, store) holds stock, reserve and in-transit quantities and the moment they
  last changed (control route ``POST /_emulator/moysklad/stock`` or :meth:`set_stock`).
* ``stockType``: ``stock`` (default), ``freeStock`` (stock − reserve), ``quantity`` (stock −
  reserve + in transit), ``reserve``, ``inTransit``; the row carries the value under that name.
  Anything else → 400 code 1040.
* Zero rows are left out unless ``include=zeroLines`` or ``changedSince`` is given.
* ``changedSince`` (``YYYY-MM-DD HH:MM:SS``, Moscow time): only rows changed since then; more
  than 24 hours back or in the future → 400 code 1040 (the documentation states the rule, not
  the code); a bad date → 1035.
* ``filter=assortmentId=…;storeId=…``, several ids by comma or repeated; ids must be UUIDs
  (1014); another filter field → 1034.
* Rows come in the order the stock was first set (the documentation promises no order); the
  whole report is one plain array, no paging. ``all`` sums the stores per assortment.
"""

from __future__ import annotations

from .moysklad_protocol import UUID_RE, MsError
from .moysklad_query import filter_text
from .moysklad_store import RawJson, fmt_moment, moment_ts, parse_moment

STOCK_TYPES = ("stock", "freeStock", "quantity", "reserve", "inTransit")


def _value(row: list, stock_type: str):
    stock, reserve, in_transit = row[0], row[1], row[2]
    if stock_type == "stock":
        return stock
    if stock_type == "freeStock":
        return stock - reserve
    if stock_type == "quantity":
        return stock - reserve + in_transit
    if stock_type == "reserve":
        return reserve
    return in_transit


def _number(value):
    return int(value) if float(value).is_integer() else value


class MsReportsMixin:
    def _init_reports(self):
        self.stock: dict[tuple[str, str], list] = {}  # (assortment, store) → [s, r, t, moment]

    def set_stock(self, assortment_id: str, store_id: str, stock=None, reserve=None,
                  in_transit=None) -> dict:
        """Set stock quantities (None leaves one unchanged); caller need not hold the lock."""
        with self.lock:
            if self.find_assortment(assortment_id) is None:
                raise KeyError(f"unknown assortment {assortment_id}")
            if store_id not in self.db["store"]:
                raise KeyError(f"unknown store {store_id}")
            row = self.stock.setdefault((assortment_id, store_id), [0, 0, 0, ""])
            for index, value in enumerate((stock, reserve, in_transit)):
                if value is not None:
                    row[index] = value
            row[3] = self.stamp()
            self.version += 1
            answer = {"assortmentId": assortment_id, "storeId": store_id, "stock": row[0],
                      "reserve": row[1], "inTransit": row[2], "changed": row[3]}
        self.stock_changed(assortment_id, store_id)
        return answer

    def stock_totals(self, assortment_id: str) -> tuple:
        stock = reserve = in_transit = 0
        for store_id in self.db["store"]:
            row = self.stock.get((assortment_id, store_id))
            if row:
                stock += row[0]
                reserve += row[1]
                in_transit += row[2]
        return stock, reserve, in_transit

    def _report_filter(self, request) -> tuple[set | None, set | None]:
        wanted = {"assortmentId": None, "storeId": None}
        for part in filter_text(request).split(";"):
            if not part.strip():
                continue
            name, sep, values = part.partition("=")
            if not sep or name not in wanted:
                raise MsError(400, 1034, f"Ошибка фильтрации: неизвестное поле фильтрации "
                                         f"'{name}'", name)
            for value in values.split(","):
                value = value.strip()
                if not UUID_RE.fullmatch(value):
                    raise MsError(400, 1014, f"Неверное значение '{value}' параметра "
                                             f"фильтрации '{name}'", name)
                wanted[name] = (wanted[name] or set()) | {value.lower()}
        return wanted["assortmentId"], wanted["storeId"]

    def _changed_since(self, request) -> str | None:
        if not request.query.get("changedSince"):
            return None
        since = parse_moment(request.query["changedSince"])
        if since is None:
            raise MsError(400, 1035, "Ошибка фильтрации: неверный формат даты параметра "
                                     "фильтрации", "changedSince")
        now = self.clock()
        since_ts = moment_ts(since)
        if since_ts < now - 24 * 3600 or since_ts > now + 1:
            raise MsError(400, 1040, "Неверно заданы параметры запроса: changedSince должен "
                                     "быть не ранее 24 часов назад и не позже текущего "
                                     "момента", "changedSince")
        return since

    def stock_report(self, request, by_store: bool) -> list[str]:
        """The report's rows, each already JSON (:class:`RawJson`): 100,000 rows are built
        without a dict each."""
        stock_type = request.query.get("stockType") or "stock"
        if stock_type not in STOCK_TYPES:
            raise MsError(400, 1040, f"Неверно заданы параметры запроса: stockType должен быть "
                                     f"одним из {', '.join(STOCK_TYPES)}", "stockType")
        since = self._changed_since(request)
        zero = since is not None or request.query.get("include") == "zeroLines"
        assortments, stores = self._report_filter(request)
        rows: list[dict] = []
        totals: dict[str, list] = {}
        with self.lock:
            live_stores = self.db["store"]
            for (assortment_id, store_id), row in self.stock.items():
                if store_id not in live_stores or self.find_assortment(assortment_id) is None:
                    continue
                if assortments is not None and assortment_id not in assortments:
                    continue
                if stores is not None and store_id not in stores:
                    continue
                if by_store:
                    if since is not None and row[3] < since:
                        continue
                    value = _value(row, stock_type)
                    if value or zero:
                        rows.append(RawJson(
                            f'{{"assortmentId":"{assortment_id}","storeId":"{store_id}",'
                            f'"{stock_type}":{_number(value)!r}}}'))
                else:
                    total = totals.setdefault(assortment_id, [0, 0, 0, ""])
                    for index in range(3):
                        total[index] += row[index]
                    total[3] = max(total[3], row[3])
        if not by_store:
            for assortment_id, total in totals.items():
                if since is not None and total[3] < since:
                    continue
                value = _value(total, stock_type)
                if value or zero:
                    rows.append(RawJson(f'{{"assortmentId":"{assortment_id}",'
                                        f'"{stock_type}":{_number(value)!r}}}'))
        return rows

    def now_moment(self) -> str:
        return fmt_moment(self.clock())
