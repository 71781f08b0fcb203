"""ShateClient's articles and prices: article search by code and brand or by id, article cards
and analogs, price offers within the price budget.

- GET articles/search: the section heading takes ``searchString`` as a query parameter, other
  sections name a ``/articles/search/{articleSearchString}`` path; the heading is followed.
  ``include`` is sent comma-joined (contents, extended_info, trademark).
- POST articles/search: body ``{"keys": [{"articleCode", "tradeMarkName"}], "include"}`` or
  ``{"ids": [1, 2], ...}`` (the document lists ``Ids`` as a collection of ids: plain numbers are
  sent). The document gives no batch limit: ``article_batch_size`` (50) keys per request. Answers
  are matched back by code and brand compared without case, spaces and punctuation; with one key
  asked, everything answered belongs to it.
- Brand-less codes: the POST marks ``tradeMarkName`` as required, so a key without a brand is
  never sent there; its code is looked up with the GET search instead, one request per code
  (the GET takes one ``searchString``), and only articles of that very code (same normalised
  comparison) are kept, under every brand found: the caller reports several as ambiguous.
- POST prices/search: the document lists the parameters but shows no body. Field notes: typed
  clients (and the service's own runtime error) use an array of ``{articleId, agreementCode,
  deliveryAddressCode, includeAnalogs}``, others one object. ``price_request_shape`` 'array'
  (default: up to ``price_batch_size`` articles per request) or 'object' (one per request). With
  ``include_analogs`` every request holds one article: the answer says which article an offer is
  for but not which asked article it is an analog of. Grouped answers (``with_article_info``
  shape) are accepted too. Notes: the service answers an empty list unless ``agreementCode`` and
  ``deliveryAddressCode`` are given, so the client's ``agreement_code``/``delivery_address_code``
  are sent whenever the call gives none.
- Price limits: 2,000 per 15 min and 120,000 per day for API accounts (Belarus: 1,200 and 40,000);
  the document speaks of "requests for an article's price", so by default ``price_budget`` is
  charged one unit per article in a request (``price_budget_unit='request'`` charges one per
  request). The budget is checked before anything is sent, a login included (RateLimited, no
  request), and charged as each price request leaves: never for a login that failed or was
  refused, nor for a request that did not leave; a retry, or the repeat after a 401, is charged
  again (conservative: whether the service counted the failed one is unknown). The document
  says a 429 on prices lasts "until the end of the day": a 429 without ``Retry-After`` there waits
  until the next midnight of the service (UTC+3, ``service_utc_offset``), which raises RateLimited
  at once instead of sleeping, and the budget is blocked that long so the next run does not try.
"""

from datetime import datetime, timedelta
from datetime import time as day_start

from .errors import NotFound, RateLimited
from .etm_data import text, to_int
from .shate_catalogue_data import offer_rows, parse_article, parse_offer
from .shate_convert import API, chunks, include_param, normalize_key, rows_of

ARTICLE_BATCH_SIZE = 50
PRICE_BATCH_SIZE = 20
PRICE_SHAPES = ("array", "object")
BUDGET_UNITS = ("article", "request")


class ShateCatalogueMixin:
    """Articles and prices; mixed into ShateClient (its ``_get``/``_checked_json``)."""

    _price_units = 0  # budget units of the price request being sent (see _send_once)

    def get_article(self, article_id, include=()):
        """One article card; ``include``: 'contents', 'extended_info', 'trademark' (any mix).

        The document warns that ``include`` can make the answer much slower.
        """
        article_id = self._article_id(article_id)
        params = {"include": include_param(include)}
        document = self._get(f"{API}/articles/{article_id}", endpoint="articles", params=params)
        articles = [parse_article(row) for row in rows_of(document, "article")]
        for article in articles:
            if article.id == article_id:
                return article
        if len(articles) == 1:
            return articles[0]
        raise NotFound("Shate-M does not know this article", status=404)

    def get_analogs(self, article_id, include=()):
        article_id = self._article_id(article_id)
        path = f"{API}/articles/{article_id}/analogs"
        try:
            document = self._get(
                path, endpoint="articles", params={"include": include_param(include)}
            )
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "analogs")]

    def search_articles_by_string(self, search_string, *, trade_mark_names=(), include=()):
        """Articles whose code matches ``search_string`` (with or without punctuation)."""
        params = {"searchString": text(search_string), "include": include_param(include)}
        if isinstance(trade_mark_names, str):
            trade_mark_names = [trade_mark_names]
        names = [text(name) for name in trade_mark_names or () if text(name)]
        if names:
            params["tradeMarkNames"] = names
        try:
            document = self._get(f"{API}/articles/search", endpoint="articles", params=params)
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "articles")]

    def search_articles(self, keys, *, include=()):
        """Articles for (article_code, trade_mark_name) keys → {key: [ShateArticle, ...]}.

        Keys with a brand: POST /api/v1/articles/search with ``{"keys": [...]}``,
        ``article_batch_size`` (default 50; the document states no limit) keys per request.
        Keys without one (a plain code, or an empty brand): GET articles/search, one request per
        code, as the POST requires ``tradeMarkName``; every article of that code is kept, whatever
        its brand (several = ambiguous: the caller decides). Every key is in the result, with an
        empty list when nothing matched.
        """
        result, branded, brandless, raw = {}, {}, {}, {}
        for key in keys:
            code, brand = (key, "") if isinstance(key, str) else (key[0], key[1])
            norm = (normalize_key(code), normalize_key(brand))
            result[key] = []
            if norm[0]:
                (branded if norm[1] else brandless).setdefault(norm, []).append(key)
                raw.setdefault(norm, (text(code), text(brand)))
        for chunk in chunks(list(branded), self.article_batch_size):
            body = {"keys": [self._article_key(*raw[norm]) for norm in chunk]}
            for article in self._article_search(body, include):
                self._add_found(result, article, self._matching_keys(article, chunk, branded))
        for norm, asked in brandless.items():
            for article in self.search_articles_by_string(raw[norm][0], include=include):
                # The string search may answer other codes too: only this code is kept.
                if normalize_key(article.code) == norm[0]:
                    self._add_found(result, article, asked)
        return result

    @staticmethod
    def _add_found(result, article, keys):
        for key in keys:
            if article not in result[key]:
                result[key].append(article)

    def get_articles(self, article_ids, *, include=()):
        """Article cards by Shate-M id → {id: ShateArticle}; unknown ids are absent."""
        ids = list(dict.fromkeys(self._article_id(value) for value in article_ids))
        found = {}
        for chunk in chunks(ids, self.article_batch_size):
            for article in self._article_search({"ids": chunk}, include):
                if article.id in chunk:
                    found[article.id] = article
        return found

    def _article_search(self, body, include):
        include = include_param(include)
        if include:
            body["include"] = include
        try:
            document = self._checked_json(
                "POST", f"{API}/articles/search", endpoint="articles", json=body
            )
        except NotFound:
            return []
        return [parse_article(row) for row in rows_of(document, "articles")]

    @staticmethod
    def _article_key(code, brand):
        return {"articleCode": code, "tradeMarkName": brand}

    @staticmethod
    def _matching_keys(article, chunk, by_norm):
        code, brand = normalize_key(article.code), normalize_key(article.trade_mark_name)
        keys = by_norm.get((code, brand), [])
        if not keys and len(chunk) == 1:
            keys = by_norm[chunk[0]]
        return keys

    @staticmethod
    def _article_id(value):
        article_id = to_int(value)
        if article_id is None:
            raise ValueError(f"Not a Shate-M article id: {value!r}")
        return article_id

    # -- prices -------------------------------------------------------------------------------
    def search_prices(
        self, article_ids, *, agreement_code=None, delivery_address_code=None, include_analogs=False
    ):
        """Offers per article id → {article_id as given: [ShateOffer, ...]} (empty when none).

        Each request is checked against ``price_budget`` first (RateLimited without a request,
        not even a login, when it is used up) and charged as it leaves. Up to ``price_batch_size`` articles per request in the 'array'
        shape; one per request with ``include_analogs`` or the 'object' shape. Analog offers
        are listed under the article asked, with ``is_analog`` True.
        """
        agreement = text(agreement_code) or self.agreement_code
        address = text(delivery_address_code) or self.delivery_address_code
        callers = {}
        for value in article_ids:
            callers.setdefault(self._article_id(value), []).append(value)
        result = {value: [] for values in callers.values() for value in values}
        single = include_analogs or self.price_request_shape == "object"
        size = 1 if single else self.price_batch_size
        now = self.now()
        for chunk in chunks(list(callers), size):
            rows = self._price_request(chunk, agreement, address, include_analogs)
            for row in rows:
                offer = parse_offer(
                    row,
                    requested_article_id=chunk[0] if len(chunk) == 1 else None,
                    delivery_address_code=address,
                    now=now,
                    location_names=self.location_names,
                )
                requested = offer.requested_article_id
                if len(chunk) > 1:
                    # Analogs are never asked in a multi-article request: the offer's own
                    # article is the one asked.
                    requested = offer.requested_article_id = offer.article_id
                if requested is None:
                    continue  # an offer without an article id in a multi-article answer
                # An unasked article in a multi-article answer is kept under its own id.
                for value in callers.get(requested, [requested]):
                    result.setdefault(value, []).append(offer)
        return result

    def _price_request(self, chunk, agreement, address, include_analogs):
        units = len(chunk) if self.price_budget_unit == "article" else 1
        if self.price_budget is not None:
            # Nothing is sent, not even a login, when the budget is used up; the units are
            # taken only when the request leaves (_send_once).
            self.price_budget.check(units)
        keys = []
        for article_id in chunk:
            key = {"articleId": article_id}
            if agreement:
                key["agreementCode"] = agreement
            if address:
                key["deliveryAddressCode"] = address
            key["includeAnalogs"] = bool(include_analogs)
            keys.append(key)
        body = keys if self.price_request_shape == "array" else keys[0]
        failure = None
        self._price_units = units
        try:
            document = self._checked_json(
                "POST", f"{API}/prices/search", endpoint="prices", json=body
            )
        except NotFound:
            return []
        except RateLimited as exc:
            failure = exc
        finally:
            self._price_units = 0
        if failure is not None:
            # A 429 of the service (not the budget's own refusal): the budget waits as long.
            if self.price_budget is not None and failure.status is not None:
                self.price_budget.block(failure.retry_after)
            raise failure
        return offer_rows(document)

    def _send_once(self, prepared, label, *args, **kwargs):
        """Every price request is charged to the budget as it leaves (retries and the repeat
        after a 401 too): a login before it, or a request that fails before leaving, costs
        nothing; RateLimited here means it did not leave."""
        if label == "prices" and self._price_units and self.price_budget is not None:
            self.price_budget.acquire(self._price_units)
        return super()._send_once(prepared, label, *args, **kwargs)

    # -- a 429 on prices ----------------------------------------------------------------------
    def _retry_after(self, response):
        """A 429 on prices without Retry-After lasts "until the end of the day" (document)."""
        seconds = super()._retry_after(response)
        request = getattr(response, "request", None)
        path = getattr(request, "path_url", "") or ""
        if seconds is None and response.status_code == 429 and "/prices/search" in path:
            return self._seconds_until_service_midnight()
        return seconds

    def _seconds_until_service_midnight(self):
        local = self.now() + timedelta(hours=self.service_utc_offset)
        midnight = datetime.combine(local.date() + timedelta(days=1), day_start())
        return max(1.0, (midnight - local).total_seconds())
