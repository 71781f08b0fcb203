"""``PagesAhead``: the pages of an offset list (MoySklad's ``limit``/``offset``) fetched several
at a time, each in a thread of its own, and handed to the caller in page order. The threads only
fetch (the HTTP request and the JSON parsing); what the caller does with a page (the ORM, a
database cursor) stays in the caller's thread.

- The first page is asked alone: its ``meta`` gives the stride (its ``limit``) and the list's
  ``size``; then the offsets after it are known (``offset + k × limit`` below ``size``) and up
  to ``ahead`` pages are asked at once. A page that was not handed yet counts: at most
  ``ahead`` pages wait or travel, plus the one the caller holds, so memory stays bounded.
- Order: pages arrive in any order and are handed in offset order; an error raised for page k
  (the same object: class, message, attributes) is raised by ``next()`` once pages before k
  were handed, and no offset after k is asked any more.
- The end is what the sequential list decides (``iter_pages``): the first page handed that has
  no ``next_href`` and whose rows reach ``size`` ends the list. ``size`` is the largest one
  seen: when the list grows during the pull the later pages are asked too; when it shrinks, a
  page asked past the new end comes back empty and ends it (its request is the only waste).
  Without a ``size`` (an answer without ``meta.size``), a page is asked only once the one
  before it arrived and told that more follow: one page at a time, as the sequential list. A
  page with fewer rows than the stride that still says more follow moves the next offset to
  right after its rows, as the sequential list does (what was asked after it is dropped).
- ``close()`` (or leaving the ``with`` block, also on an error): no page is asked after it,
  every thread's ``on_start`` event is set (``MoySkladClient`` then refuses that thread's next
  request and ends its waits for the budget or a retry), and ``close()`` returns once the
  threads have ended; a request already on the wire finishes and its answer is dropped.
"""

import logging
import threading

__all__ = ["PagesAhead", "PrefetchStopped"]

_logger = logging.getLogger(__name__)
_ITEM, _END, _ERROR = "item", "end", "error"


class PrefetchStopped(Exception):  # noqa: N818 (a signal, not an error of the service)
    """Raised inside the prefetching thread when the caller stopped it (never to the caller)."""


class PagesAhead:
    """Pages of an offset list, ``ahead`` at a time in threads, handed in order (see the module
    docstring). ``fetch(offset)`` returns the page at ``offset`` (an object with ``offset``,
    ``limit``, ``size``, ``next_href`` and ``rows_count``, as MsPage); it runs in a worker
    thread, after ``on_start(stopped_event)``."""

    def __init__(self, fetch, *, offset=0, ahead=3, on_start=None, name="pages-ahead"):
        self._fetch = fetch
        self._on_start = on_start
        self.ahead = max(1, int(ahead))
        self._cond = threading.Condition()
        self._planned = [int(offset)]  # offsets asked or to ask, not handed yet, in order
        self._todo = [int(offset)]  # offsets no thread took yet, in order
        self._results = {}  # offset -> (kind, value)
        self._stride = None
        self._size = None
        self._more_after = {}  # offset -> True when that page says more follow
        self._short = {}  # offset -> where the next page starts, for a page cut short
        self._no_more = False  # an error or the end was seen: plan nothing more
        self._finished = False
        self.stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
            for index in range(self.ahead)
        ]
        for thread in self._threads:
            thread.start()

    # -- the threads ----------------------------------------------------------------------------
    def _work(self):
        try:
            if self._on_start is not None:
                self._on_start(self.stopped)
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            with self._cond:
                self._fail(self._planned[0] if self._planned else 0, exc)
            return
        while True:
            with self._cond:
                while not self._todo and not self._idle_for_good():
                    self._cond.wait()
                if self.stopped.is_set() or not self._todo:
                    return
                offset = self._todo.pop(0)
            try:
                result = (_ITEM, self._fetch(offset))
            except StopIteration:
                result = (_END, None)
            except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
                result = (_ERROR, exc)
            with self._cond:
                if self.stopped.is_set():
                    return  # the caller left: nobody will take it
                if offset not in self._planned:
                    continue  # dropped meanwhile (a page before it ended the list early)
                if result[0] == _ITEM:
                    self._learn(offset, result[1])
                else:
                    self._no_more = True
                    self._todo.clear()
                self._results[offset] = result
                self._plan()
                self._cond.notify_all()

    def _idle_for_good(self):
        return self.stopped.is_set() or self._no_more or self._finished

    def _fail(self, offset, exc):
        self._results[offset] = (_ERROR, exc)
        self._no_more = True
        self._todo.clear()
        self._cond.notify_all()

    def _learn(self, offset, page):
        if self._stride is None:
            self._stride = max(1, int(page.limit or page.rows_count or 1))
        if page.size is not None:
            self._size = page.size if self._size is None else max(self._size, page.size)
        more = self._more_after[offset] = bool(page.next_href) or bool(
            page.rows_count and page.size is not None
            and page.offset + page.rows_count < page.size
        )
        if more and 0 < page.rows_count < self._stride:
            # Fewer rows than the stride and yet more follow: the next page starts right after
            # these rows, as in the sequential list; what was planned after it is dropped.
            self._short[offset] = offset + page.rows_count
            later = self._planned[self._planned.index(offset) + 1:]
            del self._planned[len(self._planned) - len(later):]
            self._todo = [other for other in self._todo if other not in later]
            for other in later:
                self._results.pop(other, None)

    def _plan(self):
        """Ask the next offsets while fewer than ``ahead`` pages wait (under the lock)."""
        while not self._no_more and not self.stopped.is_set() and self._stride is not None:
            if len(self._planned) >= self.ahead:
                return
            last = self._planned[-1] if self._planned else self._handed_last
            following = self._short.get(last, last + self._stride)
            known = self._size is not None and following < self._size
            if not known and not self._more_after.get(last):
                return
            self._planned.append(following)
            self._todo.append(following)

    # -- the caller -----------------------------------------------------------------------------
    _handed_last = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished or self.stopped.is_set():
            raise StopIteration
        with self._cond:
            while True:
                if not self._planned:  # the last page handed ended the list
                    kind, value = _END, None
                    break
                offset = self._planned[0]
                if offset in self._results:
                    kind, value = self._results.pop(offset)
                    break
                self._cond.wait()
            if kind == _ITEM:
                self._planned.pop(0)
                self._handed_last = offset
                if not self._more_after.get(offset):
                    # The list ends with this page: what was asked after it is dropped.
                    self._no_more = True
                    self._todo.clear()
                    self._planned.clear()
                    self._results.clear()
                else:
                    self._plan()
                self._cond.notify_all()
                return value
            self._finished = True
        self.close()
        if kind == _END:
            raise StopIteration
        try:
            raise value
        finally:
            value = None  # no reference cycle through the traceback

    def close(self):
        """Stop the threads and wait for them (idempotent)."""
        self.stopped.set()
        with self._cond:
            self._todo.clear()
            self._results.clear()
            self._cond.notify_all()
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join()

    @property
    def alive(self):
        return any(thread.is_alive() for thread in self._threads)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
