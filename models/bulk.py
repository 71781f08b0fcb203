"""Write many rows with different values in one statement.

``records.write(vals)`` issues one UPDATE per distinct set of values, so refreshing 50 prices costs
50 queries. A sync batch instead sends one ``UPDATE … FROM (VALUES …)`` per table, then tells the
ORM what changed (cache invalidation and ``modified``), so stored fields that depend on these
columns are still recomputed the normal way.
"""

from collections import defaultdict

from odoo.tools import SQL


def bulk_write(model, values_by_id):
    """Update ``{id: {field: value}}`` rows of ``model`` (plain stored columns only)."""
    groups = defaultdict(dict)
    for record_id, vals in values_by_id.items():
        if vals:
            groups[tuple(sorted(vals))][record_id] = vals
    for fnames, rows in groups.items():
        _update_rows(model, list(fnames), rows)


def _update_rows(model, fnames, rows):
    fields_ = [model._fields[name] for name in fnames]
    for field in fields_:
        if not field.store or field.compute or field.type in ("one2many", "many2many", "binary"):
            raise ValueError(f"bulk_write cannot write {model._name}.{field.name}")
    records = model.browse(list(rows))
    model.flush_model(fnames)
    values = SQL(", ").join(
        SQL(
            "(%s)",
            SQL(", ").join(
                [SQL("%s", record_id)]
                + [
                    SQL("%s::" + field.column_type[1], _to_column(field, rows[record_id][field.name]))
                    for field in fields_
                ]
            ),
        )
        for record_id in rows
    )
    assignments = SQL(", ").join(
        [SQL("%s = v.%s", SQL.identifier(name), SQL.identifier(name)) for name in fnames]
        + [SQL("write_date = now() at time zone 'UTC'"), SQL("write_uid = %s", model.env.uid)]
    )
    model.env.cr.execute(
        SQL(
            "UPDATE %s AS t SET %s FROM (VALUES %s) AS v(id, %s) WHERE t.id = v.id",
            SQL.identifier(model._table),
            assignments,
            values,
            SQL(", ").join(SQL.identifier(name) for name in fnames),
        )
    )
    records.invalidate_recordset(fnames + ["write_date", "write_uid"])
    records.modified(fnames)


def _to_column(field, value):
    if field.type == "many2one":
        return value.id if hasattr(value, "id") else (value or None)
    if value is False and field.type not in ("boolean",):
        return None
    return value
