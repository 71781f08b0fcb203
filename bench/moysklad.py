"""Benchmark: MoySklad catalogue and stock pull, and product push, against the local emulator.

    python -m bench.moysklad --db sc_bench --products 100000 --push 10000 [--parts pull,push]

1. pull (N = ``--products`` synthetic products at the emulator, its limits ON: 45 units per 3 s,
   5 parallel requests, so the budget and the 429s are real): three runs, each in a fresh
   process, after a setup (connection, Test connection for the reference data, the sale price
   type mapped to the sales price):
   * ``first pass``: the engine's scheduled catalogue pull (``import_catalogue``) with no
     watermark: every product created in Odoo; requests = ⌈N/1000⌉ assortment pages (+ the
     unit list);
   * ``unchanged pass``: the watermark cleared, the whole catalogue read again: nothing written;
   * ``stock``: the scheduled stock pull (``sync_offers``): the short stock reports (stock,
     reserve, in transit: 3 requests of 5 units) and an offer per store.
   Per run: requests (client and emulator), answers 429, units used and the budget used
   (units / (45 + 15 units per s × wall s): the units MoySklad would have accepted in the run's
   wall time, a full window at the start then 15 a second), SQL per batch, RSS at each
   checkpoint (memory flat). Beside it, where the time went: Odoo's CPU (the child process:
   the ORM in the main thread, and the threads that fetch, gunzip, decode and parse the pages),
   the emulator's CPU (this parent process: it serves the pages), and the whole machine's busy
   share of its cores (other processes included), each per page of 1,000; and the ceiling of
   the client itself (``client_ceiling``): it counts 45 units per 3.2 s
   (``moysklad_limits.WINDOW_MARGIN``) in 0.05 s buckets, and a request leaves only once the
   one 45 units before it left a window ago, so 101 requests of 3 units cannot end before
   6 × 3.25 s: 90 % at most for 100,000 products, before any latency or work.
2. push (M = ``--push`` products bound to a connection where Odoo is the master of products and
   prices, an emulator with an empty catalogue, limits ON): a first push (⌈M/1000⌉ bulk POSTs,
   M products created), then the same push again with nothing changed (0 POSTs). Odoo's time per
   product is the process's CPU time less the CPU spent inside the client's ``push_products``
   (JSON, gzip, HTTP): payloads, hashes and applying the answers; target ≤ 0.5 ms.

Decisions: the emulator runs in this (parent) process, in a thread, as in :mod:`bench.imsklad`
(the parent reads its counters between runs); Odoo work runs in child processes
(``--phase setup|pull|cleanup --step …``). The emulator's roubles are mapped to the company
currency, so no exchange rate is needed and prices go through unconverted. Products the pull
creates are removed at the end through SQL (``harness.remove_products`` for the pushed ones).
"""

import argparse
import math
import os
import sys
import time

from bench import harness

PUSH_MS_TARGET = 0.5  # Odoo CPU per pushed product
BUDGET_TARGET = 0.90  # share of 45 units / 3 s used by a pull
WINDOW_UNITS = 45
UNITS_PER_SECOND = WINDOW_UNITS / 3
# The client's own window (moysklad_limits: 3 s + a 0.2 s margin, counted in 0.05 s buckets).
CLIENT_WINDOW = 3.2 + 0.05
MEMORY_FLAT = 1.10  # RSS at the last checkpoint / RSS at the first quarter's end
PULL_BACKEND = "Benchmark MoySklad pull"
PUSH_BACKEND = "Benchmark MoySklad push"
VENDOR_NAME = "Benchmark MoySklad vendor"
CATEGORY_NAME = "Supplier connector MoySklad benchmark"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.moysklad",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--parts", default="pull,push", help="pull, push (comma-separated)")
    parser.add_argument("--products", type=int, default=100_000, help="N: catalogue pulled")
    parser.add_argument("--push", type=int, default=10_000, help="M: products pushed")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- children: Odoo inside --------------------------------------------------------------------
def child(args):
    harness.child_step(args, STEPS[(args.phase, args.step)])


def _backend(env, args, name, **values):
    from emulators.moysklad_demo import DEMO_LOGIN, DEMO_PASSWORD  # noqa: PLC0415

    vendor = env["res.partner"].search([("name", "=", VENDOR_NAME)], limit=1) or env[
        "res.partner"].create({"name": VENDOR_NAME, "is_company": True})
    backend = env["supplier.backend"].create(dict({
        "name": name, "service": "moysklad", "partner_id": vendor.id, "login": DEMO_LOGIN,
        "password": DEMO_PASSWORD, "api_url": args.api_url, "rate_limit": 0, "max_retries": 3,
    }, **values))
    backend.action_test_connection()  # the reference data: currencies, price types, stores
    references = backend.with_context(active_test=False).reference_ids
    currency = references.filtered(lambda r: r.kind == "ms_currency" and r.iso_code == "RUB")
    if not currency:
        raise SystemExit("Test connection loaded no RUB currency from the emulator")
    currency.odoo_currency_id = backend.company_id.currency_id
    prices = references.filtered(lambda r: r.kind == "ms_price_type")
    if not prices:
        raise SystemExit("Test connection loaded no price type from the emulator")
    prices[:1].price_target = "list_price"
    env.cr.commit()
    return backend


def setup_pull(odoo, env, args):
    remove_pull(env)
    backend = _backend(env, args, PULL_BACKEND, catalogue_create_products=True,
                       moysklad_pull_images=False)
    return {"backend_id": backend.id}


def remove_pull(env):
    """The previous pull's connection and the products it created (SQL: see harness)."""
    env.cr.execute(
        "SELECT DISTINCT pp.product_tmpl_id FROM supplier_product b JOIN supplier_backend s "
        "ON s.id = b.backend_id JOIN product_product pp ON pp.id = b.product_id "
        "WHERE s.name = %s", [PULL_BACKEND])
    templates = [row[0] for row in env.cr.fetchall()]
    harness.remove_run(env, PULL_BACKEND, VENDOR_NAME)
    if templates:
        harness.vacuum(env.cr.dbname, "product_supplierinfo")
        env.cr.execute("DELETE FROM product_template WHERE id = ANY(%s)", [templates])
        env.invalidate_all()
        env.cr.commit()


def setup_push(odoo, env, args):
    harness.remove_run(env, PUSH_BACKEND, VENDOR_NAME)
    category = env["product.category"].search([("name", "=", CATEGORY_NAME)], limit=1) or env[
        "product.category"].create({"name": CATEGORY_NAME})
    backend = _backend(env, args, PUSH_BACKEND, moysklad_products_direction="push",
                       moysklad_prices_direction="push")
    Product = env["product.product"].with_context(tracking_disable=True, mail_create_nolog=True)
    # Prices, weight and a sales description, so the payloads carry what real ones do.
    have = Product.search_count([("categ_id", "=", category.id)])
    for start in range(have, args.n, 2000):
        Product.create([{
            "name": f"Bench product {i}", "default_code": f"MSB-{i:06d}",
            "categ_id": category.id, "type": "consu", "list_price": 100 + i % 900,
            "standard_price": 50 + i % 450, "weight": (100 + i % 1000) / 1000,
            "description_sale": f"Benchmark product number {i}",
        } for i in range(start, min(start + 2000, args.n))])
        env.cr.commit()
        env.invalidate_all()
    harness.bind_products(env, backend, category, args.n,
                          lambda i: {"external_code": f"MSB-{i:06d}", "moysklad_kind": "product"})
    return {"backend_id": backend.id}


def _watch(odoo, result):
    """Checkpoint marks (SQL counter, clock, RSS) and the client's usage of the run."""
    from odoo.addons.supplier_connector.models.moysklad_pull import (  # noqa: PLC0415
        SupplierMoySkladPull,
    )
    from odoo.addons.supplier_connector.models.sync_run import SyncRun  # noqa: PLC0415

    marks = result.setdefault("marks", [])
    checkpoint = SyncRun.checkpoint
    note_usage = SupplierMoySkladPull._note_usage

    def marking_checkpoint(run, *a, **kw):
        marks.append((odoo.sql_db.sql_counter, time.perf_counter(), harness.proc_status_mb("VmRSS")))
        return checkpoint(run, *a, **kw)

    def keeping_usage(self, run, adapter):
        usage = adapter.usage() or {}
        result["usage"] = {k: usage.get(k) for k in ("requests", "units", "request_weight",
                                                     "waited_seconds", "rate_limited",
                                                     "failures")}
        result["per_endpoint"] = {str(k): v for k, v in (usage.get("per_endpoint") or {}).items()}
        return note_usage(self, run, adapter)

    SyncRun.checkpoint = marking_checkpoint
    SupplierMoySkladPull._note_usage = keeping_usage


def _measure(odoo, env, result, work):
    sql_db = odoo.sql_db
    _watch(odoo, result)
    result["rss_before"] = harness.proc_status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # peak RSS from here: the registry load is not counted
    cpu, queries, start = harness.cpu_seconds(), sql_db.sql_counter, time.perf_counter()
    result["marks"].append((queries, start, result["rss_before"]))
    log = work()
    result.update(wall=time.perf_counter() - start, cpu=harness.cpu_seconds() - cpu,
                  queries=sql_db.sql_counter - queries, peak_rss=harness.proc_status_mb("VmHWM"))
    marks = result.pop("marks")
    sequence = [q2 - q1 for (q1, _t1, _r1), (q2, _t2, _r2) in zip(marks, marks[1:], strict=False)]
    result["sql_batches"] = sequence
    steps = sorted(sequence) or [0]
    rss = [r for _q, _t, r in marks[1:]] or [result["rss_before"]]
    result.update(batches=len(marks) - 1, sql_batch_median=harness.median(steps), sql_batch_min=steps[0],
                  sql_batch_max=steps[-1], rss_quarter=rss[len(rss) // 4], rss_last=rss[-1],
                  requests_log=log.request_details or "")
    result.update({name: log[name] for name in ("state", "processed", "created", "updated",
                                                "unchanged", "failed")})
    return result


def measure_pull(odoo, env, args):
    backend = env["supplier.backend"].browse(args.backend_id)
    operation = "sync_offers" if args.step == "stock" else "import_catalogue"
    if args.step == "again":
        backend.moysklad_watermark = False
        env.cr.commit()
    result = _measure(odoo, env, {"n": args.n}, lambda: env["supplier.sync.engine"]
                      ._run_scheduled(backend, operation))
    env.cr.execute("SELECT count(*) FROM supplier_product WHERE backend_id = %s", [backend.id])
    result["bindings"] = env.cr.fetchone()[0]
    env.cr.execute(
        "SELECT count(*), count(DISTINCT binding_id) FROM supplier_offer o JOIN supplier_product b"
        " ON b.id = o.binding_id WHERE b.backend_id = %s", [backend.id])
    result["offers"], result["offered"] = env.cr.fetchone()
    return result


def measure_push(odoo, env, args):
    from odoo.addons.supplier_connector.api.moysklad import MoySkladClient  # noqa: PLC0415

    inside = {"cpu": 0.0, "wall": 0.0, "posts": 0}
    push_products = MoySkladClient.push_products

    def timed_push(self, *a, **kw):  # the client's share: JSON, gzip, HTTP, waits
        generator = push_products(self, *a, **kw)
        while True:
            cpu, wall = harness.cpu_seconds(), time.perf_counter()
            try:
                results = next(generator)
            except StopIteration:
                return
            finally:
                inside["cpu"] += harness.cpu_seconds() - cpu
                inside["wall"] += time.perf_counter() - wall
            inside["posts"] += 1
            yield results

    MoySkladClient.push_products = timed_push
    backend = env["supplier.backend"].browse(args.backend_id)
    result = _measure(odoo, env, {"n": args.n}, lambda: env["supplier.moysklad.push"]
                      ._push(backend, trigger="cron"))
    result["client"] = inside
    return result


def cleanup(odoo, env, args):
    remove_pull(env)
    harness.remove_products(env, PUSH_BACKEND, VENDOR_NAME, CATEGORY_NAME)
    return {}


STEPS = {
    ("setup", "pull"): setup_pull, ("setup", "push"): setup_push,
    ("pull", "first"): measure_pull, ("pull", "again"): measure_pull,
    ("pull", "stock"): measure_pull, ("pull", "push"): measure_push,
    ("pull", "push-again"): measure_push, ("cleanup", "all"): cleanup,
}


# -- the parent -------------------------------------------------------------------------------
def run_child(args, phase, step, *extra):
    return harness.run_step(args, "bench.moysklad", phase, step, *extra)


def _emulator_figures(emulator):
    counts = emulator.counts()
    return {"counts": counts, "statuses": {str(k): v for k, v in emulator.status_counts().items()}}


def _machine_busy():
    """(busy, total) jiffies of all cores since boot (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _timed_child(args, *child_args):
    """A child run, with this process's CPU (the emulator's threads: this parent only waits)
    and the machine's busy share of its cores over the run."""
    cpu, (busy, total) = harness.cpu_seconds(), _machine_busy()
    row = run_child(args, *child_args)
    busy_after, total_after = _machine_busy()
    row["emulator_cpu"] = harness.cpu_seconds() - cpu
    row["machine_busy"] = (busy_after - busy) / max(total_after - total, 1)
    row["cores"] = os.cpu_count() or 1
    return row


def bench_pull(args, out):
    from emulators.moysklad import MoyskladEmulator  # noqa: PLC0415

    n = str(args.products)
    t0 = time.perf_counter()
    emulator = MoyskladEmulator(args.products, record_limit=1000).start()
    try:
        print(f"  pull: emulator with {args.products:,} products in "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
        backend = str(run_child(args, "setup", "pull", "--n", n,
                                "--api-url", emulator.api_url)["backend_id"])
        for step, label in (("first", "first pass"), ("again", "unchanged pass"),
                            ("stock", "stock")):
            time.sleep(3.1)  # a fresh 3-second window: each run starts with the whole budget
            emulator.reset()
            row = _timed_child(args, "pull", step, "--n", n, "--backend-id", backend)
            row.update(label=label, **_emulator_figures(emulator))
            if step == "stock":
                with emulator.lock:
                    held = [key for key, values in emulator.stock.items() if any(values[:3])]
                row["expected"] = {"offers": len(held), "products": len({p for p, _s in held})}
            out.setdefault("pull", []).append(row)
            print(f"  pull: {label} {row['wall']:.1f} s, {row['counts']}, statuses "
                  f"{row['statuses']}", file=sys.stderr)
    finally:
        emulator.stop()


def bench_push(args, out):
    from emulators.moysklad import MoyskladEmulator  # noqa: PLC0415

    n = str(args.push)
    emulator = MoyskladEmulator("empty", record_limit=1000).start()
    try:
        t0 = time.perf_counter()
        backend = str(run_child(args, "setup", "push", "--n", n,
                                "--api-url", emulator.api_url)["backend_id"])
        print(f"  push: setup of {args.push:,} products {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        for step, label in (("push", "first push"), ("push-again", "unchanged push")):
            time.sleep(3.1)
            emulator.reset()
            row = run_child(args, "pull", step, "--n", n, "--backend-id", backend)
            row.update(label=label, **_emulator_figures(emulator))
            row["stored"] = len(emulator.db["product"])
            out.setdefault("push", []).append(row)
            print(f"  push: {label} {row['wall']:.1f} s, {row['counts']}", file=sys.stderr)
    finally:
        emulator.stop()


# -- report -----------------------------------------------------------------------------------
def capacity(seconds):
    """Units MoySklad allows in ``seconds``: a full window at the start (45), then 15 per s."""
    return WINDOW_UNITS + UNITS_PER_SECOND * seconds


def page_share(usage):
    """Seconds of MoySklad's budget one request of ``usage``'s weight takes (0.2 s for 3)."""
    return (usage.get("request_weight") or 3) / UNITS_PER_SECOND


def client_ceiling(units, weight=3):
    """The budget share a run spending ``units`` in requests of ``weight`` reaches at best with
    the client's own window: a request may leave only once the one 45 units before it left a
    whole ``CLIENT_WINDOW`` ago, so the first 45 units go at once and the last request leaves
    ``CLIENT_WINDOW`` × the windows before it later (nothing else taking time: no latency, no
    decoding, no Odoo)."""
    if not units:
        return 0.0
    weight = max(int(weight or 3), 1)
    per_window = max(WINDOW_UNITS // weight, 1)
    requests = max(math.ceil(units / weight), 1)
    last_leaves = ((requests - 1) // per_window) * CLIENT_WINDOW
    return units / capacity(last_leaves)


def sql_constant(r):
    """SQL per batch does not grow along the run. The first batch is left aside (it also reads
    the connection, its references and the unit list, once); of the others, the median of the
    second half ≤ the median of the first half + max(2, 10 %). A single batch is constant."""
    rest = r["sql_batches"][1:] or r["sql_batches"] or [0]
    half = max(len(rest) // 2, 1)
    early, late = harness.median(rest[:half]), harness.median(rest[half:] or rest)
    ok = late - early <= max(2, early // 10)
    return ok, (f"{r['label']}: SQL per batch of 1,000 constant (first batch aside, median of "
                f"the first half {early}, of the second {late}, range {min(rest)} to "
                f"{max(rest)}): {verdict(ok)} (in order: "
                f"{', '.join(map(str, r['sql_batches'][:12]))}"
                f"{' …' if len(r['sql_batches']) > 12 else ''}; {len(r['sql_batches'])} batches)")


verdict = harness.verdict


def _posts(row):
    return row["counts"].get("product.create", 0)


def _count(row, part):
    return sum(v for k, v in row["counts"].items() if part in k)


def pull_lines(args, rows):
    n = args.products
    pages = math.ceil(n / 1000)
    lines = [
        "## Pull (emulator limits on: 45 units per 3 s)", "",
        "| run | wall s | products/s | Odoo CPU s | emulator CPU s | machine busy | requests "
        "(emulator) | 429 | units | budget used (client ceiling) | waited s | processed / created "
        "/ updated / unchanged / failed | SQL total | SQL/batch min, median, max | RSS MB before, "
        "¼, last, peak |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|",
    ]
    checks = []
    for r in rows:
        usage = r.get("usage") or {}
        budget = (usage.get("units") or 0) / capacity(r["wall"])
        ceiling = client_ceiling(usage.get("units") or 0, usage.get("request_weight"))
        r["budget"] = budget
        requests = ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items()))
        busy = r.get("machine_busy")
        busy = "" if busy is None else f"{100 * busy:.0f} % of {r.get('cores', 1)}"
        lines.append(
            f"| {r['label']} | {r['wall']:.1f} | {r['processed'] / r['wall']:,.0f} "
            f"| {r['cpu']:.1f} | {r.get('emulator_cpu', 0):.1f} "
            f"| {busy} "
            f"| {requests} | {r['statuses'].get('429', 0)} "
            f"| {usage.get('units')} | {100 * budget:.0f} % ({100 * ceiling:.0f} %) "
            f"| {usage.get('waited_seconds')} "
            f"| {r['processed']:,} / {r['created']:,} / {r['updated']:,} / {r['unchanged']:,} / "
            f"{r['failed']:,} | {r['queries']:,} | {r['sql_batch_min']}, "
            f"{r['sql_batch_median']}, {r['sql_batch_max']} | {r['rss_before']:.0f}, "
            f"{r['rss_quarter']:.0f}, {r['rss_last']:.0f}, {r['peak_rss']:.0f} |")
        no_429 = not r["statuses"].get("429") and not usage.get("rate_limited")
        checks.append((no_429, f"{r['label']}: 0 answers 429: {verdict(no_429)} (emulator "
                               f"{r['statuses'].get('429', 0)}, client {usage.get('rate_limited')})"))
        ok = budget >= BUDGET_TARGET
        checks.append((ok, f"{r['label']}: budget used {100 * budget:.0f} % of what 45 units / "
                           f"3 s allow in {r['wall']:.1f} s (45 + 15 × s = "
                           f"{capacity(r['wall']):.0f} units; used {usage.get('units')}, weight "
                           f"{usage.get('request_weight')} per request, "
                           f"{usage.get('waited_seconds')} s waited for the limit, "
                           f"{r['cpu']:.1f} s of Odoo CPU; per page of 1,000: "
                           f"{r['cpu'] / max(r['batches'], 1):.3f} s Odoo CPU, "
                           f"{r.get('emulator_cpu', 0) / max(r['batches'], 1):.3f} s emulator "
                           f"CPU, {r['wall'] / max(r['batches'], 1):.3f} s wall, against the "
                           f"{page_share(usage):.2f} s a page's units allow; the machine "
                           f"{100 * (r.get('machine_busy') or 0):.0f} % busy over its "
                           f"{r.get('cores', 1)} cores, other processes included; the client's "
                           f"own window caps this run at {100 * ceiling:.0f} %), "
                           f"aim ≥ {100 * BUDGET_TARGET:.0f} %: {verdict(ok)}"))
        checks.append(sql_constant(r))
        flat = r["rss_last"] <= MEMORY_FLAT * r["rss_quarter"]
        checks.append((flat, f"{r['label']}: memory flat (RSS at the last checkpoint ≤ "
                             f"{MEMORY_FLAT} × at the first quarter's end): {verdict(flat)} "
                             f"({r['rss_quarter']:.0f} → {r['rss_last']:.0f} MB, peak "
                             f"{r['peak_rss']:.0f} MB)"))
    by = {r["label"]: r for r in rows}
    for label in ("first pass", "unchanged pass"):
        r = by.get(label)
        if not r:
            continue
        assortment = _count(r, "assortment")
        stock = _count(r, "stock.")
        total = sum(r["counts"].values())
        other = total - assortment
        ok = assortment == pages and stock == 0
        checks.append((ok, f"{label}: assortment requests = ⌈N/1000⌉ = {pages:,}: {verdict(ok)} "
                           f"({assortment:,}; {other} other: "
                           f"{ {k: v for k, v in r['counts'].items() if 'assortment' not in k} })"))
        want = {"first pass": ("created", n), "unchanged pass": ("unchanged", n)}[label]
        right = r[want[0]] == want[1] and not r["failed"] and r["bindings"] == n
        checks.append((right, f"{label}: {want[1]:,} {want[0]}, {r['bindings']:,} bindings, "
                              f"{r['failed']} failed: {verdict(right)}"))
    r = by.get("stock")
    if r:
        stock = _count(r, "stock.")
        ok = stock == 3 and sum(r["counts"].values()) == 3
        checks.append((ok, f"stock: 3 short stock reports (stock, reserve, in transit), nothing "
                           f"else: {verdict(ok)} ({r['counts']})"))
        want = r["expected"]
        right = (r["offers"], r["offered"]) == (want["offers"], want["products"]) \
            and not r["failed"]
        checks.append((right, f"stock: an offer per store row the emulator has in stock, reserve or"
                              f" transit: {verdict(right)} ({r['offers']:,} offers on "
                              f"{r['offered']:,} products; emulator {want['offers']:,} rows on "
                              f"{want['products']:,} products)"))
        whole = sum(sum(by[k]["counts"].values()) for k in ("first pass", "stock") if k in by)
        checks.append((True, f"Whole pull (first pass + stock): {whole:,} requests = ⌈N/1000⌉ "
                             f"{pages:,} + 3 stock reports + the others listed above"))
    return lines, checks


def push_lines(args, rows):
    n = args.push
    lines = [
        "## Push (emulator limits on)", "",
        "| push | wall s | products/s | Odoo CPU s | client CPU s (JSON, gzip, HTTP) | Odoo CPU "
        "ms/product | requests (emulator) | 429 | processed / created / updated / unchanged / "
        "failed | SQL total | SQL/batch min, median, max | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|---:|---|---:|",
    ]
    checks = []
    for r in rows:
        odoo_cpu = r["cpu"] - r["client"]["cpu"]
        r["ms"] = 1000 * odoo_cpu / max(r["n"], 1)
        requests = ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items())) or "none"
        lines.append(
            f"| {r['label']} | {r['wall']:.1f} | {r['processed'] / r['wall']:,.0f} "
            f"| {odoo_cpu:.2f} | {r['client']['cpu']:.2f} | {r['ms']:.3f} | {requests} "
            f"| {r['statuses'].get('429', 0)} | {r['processed']:,} / {r['created']:,} / "
            f"{r['updated']:,} / {r['unchanged']:,} / {r['failed']:,} | {r['queries']:,} "
            f"| {r['sql_batch_min']}, {r['sql_batch_median']}, {r['sql_batch_max']} "
            f"| {r['peak_rss']:.0f} |")
        ok = r["ms"] <= PUSH_MS_TARGET
        checks.append((ok, f"{r['label']}: Odoo CPU per product (payloads, hashes, applying the "
                           f"answers; the client's share left out) {r['ms']:.3f} ms, target ≤ "
                           f"{PUSH_MS_TARGET}: {verdict(ok)}"))
        checks.append(sql_constant(r))
    by = {r["label"]: r for r in rows}
    first, again = by.get("first push"), by.get("unchanged push")
    if first:
        want = math.ceil(n / 1000)
        ok = (_posts(first) == want == first["client"]["posts"] and first["created"] == n
              and first["stored"] == n and not first["failed"])
        checks.append((ok, f"First push: ⌈M/1000⌉ = {want} POSTs: {verdict(ok)} ({_posts(first)} "
                           f"POSTs, {first['created']:,} created, {first['stored']:,} products at "
                           f"the emulator)"))
    if again:
        ok = _posts(again) == 0 and again["unchanged"] == n
        checks.append((ok, f"Unchanged second push: 0 POSTs: {verdict(ok)} ({_posts(again)} POSTs,"
                           f" {again['unchanged']:,} unchanged; all requests {again['counts']})"))
    return lines, checks


def report(args, out, load):
    intro = (f"Pull N={args.products:,} products, push M={args.push:,}; emulator without "
             f"latency, limits on; {harness.machine(args, load)}.")
    sections = [build(args, out[key]) for key, build in (("pull", pull_lines),
                                                          ("push", push_lines)) if key in out]
    return harness.compose_report("MoySklad benchmark", intro, sections)


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)

    def run(parts, out):
        if "pull" in parts:
            bench_pull(args, out)
        if "push" in parts:
            bench_push(args, out)

    return harness.run_parts("moysklad", args, ("pull", "push"), run,
                             lambda parts: run_child(args, "cleanup", "all"),
                             lambda out, load: report(args, out, load))


if __name__ == "__main__":
    sys.exit(main())
