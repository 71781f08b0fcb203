"""Benchmark: N sale orders sent to MoySklad as customer orders, against the local emulator.

    python -m bench.moysklad_orders --db sc_bench --orders 1000 [--install]

The emulator runs in this (parent) process, in a thread, with its limits ON (45 units per 3 s,
5 parallel requests), as in :mod:`bench.moysklad`; Odoo work runs in child processes:

1. setup (not measured): a MoySklad connection that sends sale orders, Test connection (the
   organisation, stores and currencies), the emulator's roubles mapped to the company currency,
   the first store mapped to the company's warehouse; ``--customers`` customers and
   ``--products`` products (none of them at MoySklad yet); N confirmed sale orders of 3 lines,
   each for one of the customers (set confirmed directly: no transfers, which this does not
   measure);
2. ``first send``: every order sent as a scheduled job would (``_send`` per order with one
   client for the run, a commit every 100 orders). The first orders also create their customers' counterparties and push
   their products (each once);
3. ``unchanged send``: the same again: nothing changed, so no request at all;
4. ``status pull``: the scheduled order status pull (pages of 1,000 customer orders).

Per run: wall and Odoo CPU time per order, requests per order (the emulator's counters, per
endpoint), answers 429, SQL queries per order. The bench data is removed at the end (SQL).
"""

import argparse
import sys
import time

from bench import harness

BACKEND_NAME = "Benchmark MoySklad orders"
VENDOR_NAME = "Benchmark MoySklad orders vendor"
CATEGORY_NAME = "Supplier connector MoySklad orders benchmark"
CUSTOMER_PREFIX = "Bench MoySklad customer"
ORDER_REF = "MS-ORDERS-BENCH"
COMMIT_EVERY = 100


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.moysklad_orders",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--orders", type=int, default=1000, help="N: sale orders sent")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- children: Odoo inside --------------------------------------------------------------------
def child(args):
    with harness.odoo_env(args) as (odoo, env):
        result = STEPS[(args.phase, args.step)](odoo, env, args)
    harness.print_result(result)


def remove_data(env):
    env.cr.execute("DELETE FROM sale_order WHERE client_order_ref = %s", [ORDER_REF])
    harness.remove_run(env, BACKEND_NAME, VENDOR_NAME)
    categories = env["product.category"].search([("name", "=", CATEGORY_NAME)])
    if categories:
        env.cr.execute("DELETE FROM product_template WHERE categ_id = ANY(%s)", [categories.ids])
    env.invalidate_all()
    categories.unlink()
    env["res.partner"].with_context(active_test=False).search(
        [("name", "=like", f"{CUSTOMER_PREFIX}%")]
    ).unlink()
    env.cr.commit()


def setup(odoo, env, args):
    from emulators.moysklad_demo import DEMO_LOGIN, DEMO_PASSWORD  # noqa: PLC0415

    remove_data(env)
    vendor = harness.find_or_create(env, "res.partner", VENDOR_NAME, is_company=True)
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME, "service": "moysklad", "partner_id": vendor.id,
        "login": DEMO_LOGIN, "password": DEMO_PASSWORD, "api_url": args.api_url,
        "rate_limit": 0, "max_retries": 3, "moysklad_products_direction": "push",
        "moysklad_send_sale_orders": True,
    })
    backend.action_test_connection()
    references = backend.with_context(active_test=False).reference_ids
    rub = references.filtered(lambda r: r.kind == "ms_currency" and r.iso_code == "RUB")
    if not rub:
        raise SystemExit("Test connection loaded no RUB currency from the emulator")
    references.filtered(
        lambda r: r.kind == "ms_currency" and r.odoo_currency_id == backend.company_id.currency_id
    ).odoo_currency_id = False
    rub.odoo_currency_id = backend.company_id.currency_id
    warehouse = env["stock.warehouse"].search([("company_id", "=", backend.company_id.id)],
                                              limit=1)
    backend.location_ids[:1].warehouse_id = warehouse
    category = env["product.category"].create({"name": CATEGORY_NAME})
    products = env["product.product"].create([
        {"name": f"Bench order good {i}", "default_code": f"MSO-{i:04d}", "type": "consu",
         "categ_id": category.id, "list_price": 100 + i}
        for i in range(args.products)
    ])
    customers = env["res.partner"].create([
        {"name": f"{CUSTOMER_PREFIX} {i}", "is_company": True,
         "email": f"bench-customer-{i}@example.com"}
        for i in range(args.customers)
    ])
    Order = env["sale.order"].with_context(tracking_disable=True, mail_create_nolog=True)
    for start in range(0, args.n, 200):
        orders = Order.create([{
            "partner_id": customers[i % len(customers)].id, "warehouse_id": warehouse.id,
            "client_order_ref": ORDER_REF,
            "order_line": [(0, 0, {"product_id": products[(i + k) % len(products)].id,
                                   "product_uom_qty": 1 + k, "price_unit": 100.0 + k,
                                   "discount": 5.0 * k, "tax_id": [(5, 0, 0)]})
                           for k in range(3)],
        } for i in range(start, min(start + 200, args.n))])
        orders.write({"state": "sale"})
        env.cr.commit()
        env.invalidate_all()
    return {"backend_id": backend.id}


def measure(odoo, env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    Documents = env["supplier.moysklad.documents"]
    order_ids = env["sale.order"].search([("client_order_ref", "=", ORDER_REF)], order="id").ids
    cpu, queries, start = harness.cpu_seconds(), odoo.sql_db.sql_counter, time.perf_counter()
    if args.step == "status":
        log = Documents._pull_states(backend, "cron")
        env.cr.commit()
        outcome = {"state": log.state, "updated": log.updated, "processed": log.processed}
    else:
        outcome = {}
        adapter = backend._adapter()  # one client for the run, as a scheduled batch has
        for done, order_id in enumerate(order_ids, start=1):
            order = env["sale.order"].browse(order_id)
            row, _message = Documents._send(backend, order, "customerorder", "moysklad_sale_id",
                                            adapter=adapter)
            outcome[row.state] = outcome.get(row.state, 0) + 1
            if done % COMMIT_EVERY == 0:
                env.cr.commit()
                env.invalidate_all()
        env.cr.commit()
    return dict(outcome=outcome, n=len(order_ids), wall=time.perf_counter() - start,
                cpu=harness.cpu_seconds() - cpu, queries=odoo.sql_db.sql_counter - queries)


def cleanup(odoo, env, args):
    remove_data(env)
    return {}


STEPS = {("setup", "all"): setup, ("pull", "first"): measure, ("pull", "again"): measure,
         ("pull", "status"): measure, ("cleanup", "all"): cleanup}


# -- the parent -------------------------------------------------------------------------------
def run_child(args, phase, step, *extra):
    return harness.run_child(args, "bench.moysklad_orders", phase, "--step", step, *extra)


def report(args, rows):
    lines = [f"# MoySklad orders push: {args.orders:,} sale orders", "",
             "| run | orders | wall s | wall ms/order | Odoo CPU ms/order | requests | "
             "requests/order | 429 | SQL/order | outcome |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for label, row in rows:
        n = max(row["n"], 1)
        requests = sum(row["counts"].values())
        lines.append(
            f"| {label} | {row['n']:,} | {row['wall']:.1f} | {1000 * row['wall'] / n:.1f} | "
            f"{1000 * row['cpu'] / n:.2f} | {requests:,} | {requests / n:.2f} | "
            f"{row['statuses'].get('429', 0)} | {row['queries'] / n:.1f} | {row['outcome']} |"
        )
    lines += ["", "Requests per endpoint:", ""]
    for label, row in rows:
        lines.append(f"- {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items())))
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.phase:
        return child(args)
    harness.prepare(args)
    from emulators.moysklad import MoyskladEmulator  # noqa: PLC0415

    emulator = MoyskladEmulator("empty", record_limit=1000).start()
    rows, failure = [], None
    try:
        n = str(args.orders)
        backend = str(run_child(args, "setup", "all", "--n", n, "--api-url", emulator.api_url,
                                "--customers", str(args.customers), "--products",
                                str(args.products))["backend_id"])
        for step, label in (("first", "first send"), ("again", "unchanged send"),
                            ("status", "status pull")):
            time.sleep(3.1)  # a fresh 3-second window for each run
            emulator.reset()
            row = run_child(args, "pull", step, "--backend-id", backend)
            row.update(counts=emulator.counts(),
                       statuses={str(k): v for k, v in emulator.status_counts().items()})
            rows.append((label, row))
            print(f"  {label}: {row['wall']:.1f} s, {row['outcome']}", file=sys.stderr)
        with emulator.lock:
            stored = len(emulator.db["customerorder"])
        if stored != args.orders:
            failure = SystemExit(f"{stored} customer orders at MoySklad for {args.orders} orders")
    except SystemExit as exc:
        failure = exc
    finally:
        emulator.stop()
        try:
            run_child(args, "cleanup", "all")
        except SystemExit as exc:
            failure = failure or exc
    return harness.publish("moysklad-orders", report(args, rows) if rows else "", failure)


if __name__ == "__main__":
    sys.exit(main())
