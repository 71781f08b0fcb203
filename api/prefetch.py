"""One item ahead in a background thread: the next page of a list is fetched while the caller
works on the current one.

- The thread only advances the iterator (for a client's list: the HTTP request and the JSON
  parsing); whatever the caller does with an item (the ORM, a database cursor) stays in the
  caller's thread.
- At most one item waits: the thread asks for the next item only once the caller has taken the
  previous one, so the caller's item plus the one being fetched are all that is held (two pages
  of a list, not the list).
- An exception raised by the iterator is raised again in the caller's thread by ``next()``, the
  same object (class, message, attributes), after the items before it.
- ``close()`` (or leaving the ``with`` block, also on an exception) stops the thread: no item is
  asked after it, ``on_stop`` is set so a client can refuse the request the thread might be
  about to send or sleep before (``MoySkladClient.prefetch``), the iterator is closed in its own
  thread, and ``close()`` returns once the thread has ended.
"""

import logging
import threading

__all__ = ["Prefetcher", "PrefetchStopped"]

_logger = logging.getLogger(__name__)
_ITEM, _END, _ERROR = "item", "end", "error"


class PrefetchStopped(Exception):  # noqa: N818 (a signal, not an error of the service)
    """Raised inside the prefetching thread when the caller stopped it (never to the caller)."""


class Prefetcher:
    """Iterate ``iterable`` one item ahead in a daemon thread (see the module docstring).

    ``on_start(stopped_event)`` runs first in the thread (a client registers the event that
    cancels that thread's requests)."""

    def __init__(self, iterable, *, on_start=None, name="prefetch"):
        self._iterable = iterable
        self._on_start = on_start
        self._cond = threading.Condition()
        self._slot = None  # (kind, value) waiting for the caller
        self._wanted = True  # the caller took the last item: fetch the next one
        self._finished = False  # the caller got the end or the error
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- the thread ---------------------------------------------------------------------------
    def _run(self):
        iterator = None
        try:
            if self._on_start is not None:
                self._on_start(self.stopped)
            iterator = iter(self._iterable)
            while True:
                with self._cond:
                    while not self._wanted and not self.stopped.is_set():
                        self._cond.wait()
                    if self.stopped.is_set():
                        return
                    self._wanted = False
                try:
                    slot = (_ITEM, next(iterator))
                except StopIteration:
                    slot = (_END, None)
                except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
                    slot = (_ERROR, exc)
                with self._cond:
                    if self.stopped.is_set():
                        return  # the caller left: nobody will take it
                    self._slot = slot
                    self._cond.notify_all()
                if slot[0] != _ITEM:
                    return
        except BaseException as exc:  # noqa: BLE001 (on_start or iter() failed)
            with self._cond:
                self._slot = (_ERROR, exc)
                self._cond.notify_all()
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 (a generator's cleanup must not hide the rest)
                    _logger.exception("Closing a prefetched iterator failed")
            with self._cond:
                if self._slot is None and not self.stopped.is_set():
                    # Nothing handed over and not stopped (cannot happen): never let the
                    # caller wait for an item that will not come.
                    self._slot = (_END, None)
                self._cond.notify_all()

    # -- the caller ---------------------------------------------------------------------------
    def __iter__(self):
        return self

    def __next__(self):
        if self._finished or self.stopped.is_set():
            raise StopIteration
        with self._cond:
            while self._slot is None:
                self._cond.wait()
            kind, value = self._slot
            self._slot = None
            if kind == _ITEM:
                self._wanted = True
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
        """Stop the thread and wait for it (idempotent)."""
        self.stopped.set()
        with self._cond:
            self._slot = None
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def alive(self):
        return self._thread.is_alive()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
