"""The Shate-M Plus emulator's articles: cards, analogs, search by string and by keys/ids,
pictures (contents). Articles are replaced in the catalogue, never mutated.

* ``include`` takes ``contents``, ``extended_info`` (also ``extendedInfo``,
  ``characteristics``) and ``trademark``, comma-separated and/or repeated; without it only
  ``article`` is sent. With more than one article in an answer contents and extendedInfo are left
  out (the document's rule), tradeMark is not. Analogs do not list the article itself. The
  string search ignores spaces and special characters (``W71275`` finds ``W 712/75``) and
  answers ``[]`` when nothing matches; it is ``GET /articles/search?searchString=`` and also
  ``GET /articles/search/{searchString}`` (the document names both). ``POST /articles/search``
  takes ``keys`` and/or ``ids`` (≤ ``max_search_items``, default 100); unknown keys are left out.
  Every key needs ``articleCode`` and ``tradeMarkName`` (the document: required unless ``ids`` is
  filled; a key lacking either is meaningless, so it is refused even beside ``ids``): 400
  ``InvalidRequest`` naming each missing field (``keys[1].tradeMarkName``), nothing searched. A
  brand-less code is looked up with the GET search.
"""

from __future__ import annotations

from urllib.parse import unquote

from .base import Response, json_response
from .shate_answers import article_details, content_value
from .shate_catalogue import ShateArticle
from .shate_requests import as_int, include_names, reject, split_values


class ShateArticlesMixin:
    """Article routes of :class:`~.shate.ShateEmulator` (its ``catalogue``, ``lock``, ``_query``,
    ``_body``)."""

    def article(self, article_id: int) -> ShateArticle:
        return self.catalogue[int(article_id)]

    def add_article(self, article: ShateArticle) -> ShateArticle:
        with self.lock:
            self._content_index = None
            return self.catalogue.add(article)

    def remove_article(self, article_id: int) -> ShateArticle | None:
        with self.lock:
            self._content_index = None
            return self.catalogue.remove(int(article_id))


    def _article_or_404(self, article_id) -> ShateArticle:
        article = self.catalogue.get(as_int(article_id))
        if article is None:
            raise reject(404, "ArticleNotFound", f"Артикул {unquote(str(article_id))} не найден")
        return article

    def _details(self, articles: list[ShateArticle], include: set[str]) -> Response:
        single = len(articles) == 1
        return json_response([article_details(a, self.catalogue.trademark(a.trademark), include,
                                              single) for a in articles])


    # -- handlers ---------------------------------------------------------------------------
    def _article(self, request, login, article_id):
        article = self._article_or_404(article_id)
        include = include_names(self._query(request).get("include", ()))
        return json_response(article_details(
            article, self.catalogue.trademark(article.trademark), include, True))

    def _analogs(self, request, login, article_id):
        article = self._article_or_404(article_id)
        found = [self.catalogue.get(i) for i in article.analogs]
        return self._details([a for a in found if a is not None],
                             include_names(self._query(request).get("include", ())))

    def _search_get(self, request, login, text=None):
        query = self._query(request)
        text = unquote(text) if text is not None else (query.get("searchstring") or [""])[-1]
        if not text.strip():
            raise reject(400, "InvalidRequest", "Не указана строка поиска (searchString)")
        trademarks = split_values(query.get("trademarknames", []) + query.get("trademarkname", []))
        return self._details(self.catalogue.search(text, trademarks),
                             include_names(query.get("include", ())))

    def _search_post(self, request, login):
        body = self._body(request)
        if not isinstance(body, dict):
            raise reject(400, "InvalidRequest", "Ожидается объект с keys или ids")
        keys, ids = body.get("keys") or [], body.get("ids") or []
        if not isinstance(keys, list) or not isinstance(ids, list) or not (keys or ids):
            raise reject(400, "InvalidRequest", "Не заполнены keys или ids")
        if len(keys) + len(ids) > self.max_search_items:
            raise reject(400, "TooManyItems",
                         f"Не более {self.max_search_items} артикулов в запросе")
        missing = [f"keys[{n}].{name}: обязательное поле" for n, key in enumerate(keys)
                   for name in ("articleCode", "tradeMarkName")
                   if not isinstance(key, dict) or not str(key.get(name.lower()) or "").strip()]
        if missing:
            raise reject(400, "InvalidRequest", "Ключ без articleCode или tradeMarkName", *missing)
        found: dict[int, ShateArticle] = {}
        for key in keys:
            brand = str(key["trademarkname"]).strip()
            for article in self.catalogue.search(str(key["articlecode"]), (brand,)):
                found.setdefault(article.id, article)
        for article_id in ids:
            article = self.catalogue.get(as_int(article_id))
            if article is not None:
                found.setdefault(article.id, article)
        return self._details(list(found.values()), include_names(body.get("include")))

    def _contents(self, request, login):
        body = self._body(request)
        items = body if isinstance(body, list) else [body]
        if not items or not all(isinstance(i, dict) and i.get("contentid") for i in items):
            raise reject(400, "InvalidRequest", "Не указан contentId")
        with self.lock:
            if self._content_index is None:
                self._content_index = {c: a.id for a in self.catalogue.values() for c in a.contents}
            index = self._content_index
        return json_response([
            {"id": i["contentid"], "value": content_value(i["contentid"], i.get("heightsize"),
                                                          i.get("widthsize"))}
            for i in items if str(i["contentid"]).upper() in index])
