"""Rows of MoySklad's short stock reports kept in a temporary table while they are read.

MoySklad sends a stock report as one array for the whole account, one per stock type (stock,
reserve, in transit), in no order: a product's rows of one store and type may come anywhere in
each of the three answers. Merging them in Python meant holding the three reports (memory
growing with the catalogue: 322 MB at 100,000 products). Here each batch of rows, as the
answer is read (``api.moysklad_catalogue.MsStockStream``), goes into a temporary table of the
run's own database connection; the offers are then written binding chunk by binding chunk,
each reading only its products' rows. Python holds one batch of rows at a time.

- The table lives in the connection's session (``ON COMMIT PRESERVE ROWS``: a cron's commit per
  batch keeps it) and is dropped at the end; it is dropped first too, should a run that died
  before its end have left one on a pooled connection.
- After an SQL error the transaction is aborted: nothing can be dropped, the rollback that
  follows takes the table with it (created in the same transaction) or the next run's drop
  does.
"""

from collections import defaultdict

import psycopg2

from odoo.tools import SQL

TABLE = "supplier_moysklad_stock_spool"


class StockSpool:
    """A temporary table of (assortment id, store id, stock type, quantity); a context manager
    on ``cr``."""

    def __init__(self, cr):
        self.cr = cr
        self.rows = 0

    def __enter__(self):
        self.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(TABLE)))
        self.cr.execute(SQL(
            "CREATE TEMPORARY TABLE %s (assortment_id varchar NOT NULL, store_id varchar NOT "
            "NULL, stock_type varchar NOT NULL, quantity numeric) ON COMMIT PRESERVE ROWS",
            SQL.identifier(TABLE),
        ))
        self._indexed = False
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None and issubclass(exc_type, psycopg2.Error):
            return  # the transaction is aborted: see the module docstring
        self.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(TABLE)))

    def add(self, rows):
        """Keep a batch of MsStockRow."""
        if not rows:
            return
        # One statement per batch: four arrays, unnested by PostgreSQL.
        self.cr.execute(SQL(
            "INSERT INTO %s (assortment_id, store_id, stock_type, quantity) SELECT * FROM "
            "unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::numeric[])",
            SQL.identifier(TABLE), [row.assortment_id for row in rows],
            [row.store_id or "" for row in rows], [row.stock_type for row in rows],
            [row.quantity for row in rows],
        ))
        self.rows += len(rows)

    def clear(self):
        self.cr.execute(SQL("TRUNCATE %s", SQL.identifier(TABLE)))
        self.rows = 0

    def count_products(self):
        self._index()
        self.cr.execute(SQL("SELECT count(DISTINCT assortment_id) FROM %s",
                            SQL.identifier(TABLE)))
        return self.cr.fetchone()[0]

    def product_ids(self):
        self._index()
        self.cr.execute(SQL("SELECT DISTINCT assortment_id FROM %s ORDER BY 1",
                            SQL.identifier(TABLE)))
        return [row[0] for row in self.cr.fetchall()]

    def values_of(self, assortment_ids):
        """{assortment id: {store id: {stock type: Decimal or None}}} of these products."""
        self._index()
        self.cr.execute(SQL(
            "SELECT assortment_id, store_id, stock_type, quantity FROM %s "
            "WHERE assortment_id = ANY(%s)", SQL.identifier(TABLE), list(assortment_ids),
        ))
        values = defaultdict(lambda: defaultdict(dict))
        for assortment_id, store_id, stock_type, quantity in self.cr.fetchall():
            values[assortment_id][store_id][stock_type] = quantity
        return values

    def _index(self):
        if self._indexed:
            return
        # Built once the rows are in (faster than kept up while they arrive), then statistics.
        self.cr.execute(SQL("CREATE INDEX ON %s (assortment_id)", SQL.identifier(TABLE)))
        self.cr.execute(SQL("ANALYZE %s", SQL.identifier(TABLE)))
        self._indexed = True
