"""One run per (connection, operation) at a time: a PostgreSQL session-level advisory lock.

* Session-level, not transaction-level: a cron commits after every batch and must keep the lock
  across those commits. The lock belongs to the database connection, so a worker that dies
  (killed, out of memory, server restart) frees it with its connection: a "running" log whose
  lock is free belongs to a run that is provably dead.
* Key: ``pg_try_advisory_lock(int4, int4)`` with the connection's id and a stable 32-bit hash
  (CRC-32) of ``"supplier_connector:<operation>"``. Python's ``hash()`` is salted per process,
  CRC-32 is the same in every worker and every version.
* Never waited for: a button is told "already running", a cron skips the operation until its
  next tick.
* Always released in a ``finally``. The pooled connection would otherwise keep the lock for good
  (Odoo resets a pooled connection with ``RESET ALL``, which does not release advisory locks).
"""

import logging
import zlib
from contextlib import contextmanager

from psycopg2 import errors as pg_errors

from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


def lock_key(backend_id, operation):
    """The two int4 keys of the lock of ``operation`` on connection ``backend_id``."""
    digest = zlib.crc32(f"supplier_connector:{operation}".encode())
    return int(backend_id), digest - (1 << 32) if digest >= 1 << 31 else digest


class RunLock:
    """The lock of one (connection, operation), taken on the cursor's database connection."""

    def __init__(self, cr, backend_id, operation):
        self.cr = cr
        self.key = lock_key(backend_id, operation)
        self.held = False

    def acquire(self):
        """Take the lock if it is free (never waits); True when this run holds it now."""
        self.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key)
        self.held = bool(self.cr.fetchone()[0])
        return self.held

    def release(self):
        if not self.held:
            return
        self.held = False
        try:
            self.cr.execute("SELECT pg_advisory_unlock(%s, %s)", self.key, log_exceptions=False)
        except pg_errors.InFailedSqlTransaction:
            # No statement runs in an aborted transaction. The callers keep the transaction
            # usable (savepoint or rollback) before they release; should one fail to, unlock
            # right after the rollback that must follow (every Odoo cursor rolls back before
            # its connection goes back to the pool).
            _logger.warning("Run lock %s released after the rollback of a failed transaction",
                            self.key)
            connection, key = _connection(self.cr), self.key
            self.cr.postrollback.add(lambda: _unlock(connection, key))

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    @classmethod
    def is_free(cls, cr, backend_id, operation):
        """True when no other database connection holds the lock (taken and released at once;
        a connection that already holds it counts it as free, the lock being re-entrant)."""
        lock = cls(cr, backend_id, operation)
        if not lock.acquire():
            return False
        lock.release()
        return True


def _connection(cr):
    """The psycopg2 connection under an Odoo cursor (a test cursor wraps a real one)."""
    return getattr(cr, "_cnx", None) or _connection(cr._cursor)


def _unlock(connection, key):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    except pg_errors.Error as exc:  # a closed connection holds no lock any more
        _logger.info("Run lock %s not released: %s", key, exc)


@contextmanager
def exclusive_run(env, backend, operation):
    """Hold the lock of (``backend``, ``operation``) for a run started by a button.

    Raises a UserError when another run of it is under way. A button never commits, so the
    run goes in a savepoint: whatever it raises, the transaction stays usable and the lock is
    released (the error still reaches the caller, and Odoo rolls the request back).
    """
    lock = RunLock(env.cr, backend.id, operation)
    if not lock.acquire():
        raise UserError(env._(
            "%(operation)s is already running for the connection %(connection)s (started by "
            "the scheduler or by another user). Wait for it to finish; its progress is in the "
            "sync logs.",
            operation=operation_label(env, operation), connection=backend.display_name,
        ))
    try:
        with env.cr.savepoint():
            yield
    finally:
        lock.release()


def operation_label(env, operation):
    field = env["supplier.sync.log"]._fields["operation"]
    return dict(field._description_selection(env)).get(operation, operation)
