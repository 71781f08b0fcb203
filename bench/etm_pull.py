"""Benchmark: one full ETM pull of N mapped products against the local emulator.

    python -m bench.etm_pull --db sc_bench --sizes 1000,10000,100000 [--batch-sizes 50,25]

For every (N, batch size) the parent starts an emulator process (no latency, no rate limit) and
two children: ``--phase setup`` creates a connection with N bindings (and the products still
missing; not measured), ``--phase pull`` runs ``_run_offers`` once and measures it. A fresh pull
process per run makes its peak RSS that run's own, untouched by the setup's bulk creates.
See bench/README.md.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
RESULT_PREFIX = "BENCH-RESULT "
BACKEND_NAME = "Benchmark ETM pull"
CATEGORY_NAME = "Supplier connector benchmark"
VENDOR_NAME = "Benchmark ETM vendor"
CHUNK = 5000

# Pass/fail thresholds of the targets (bench/README.md explains each).
SQL_PER_BATCH_SPREAD = 1.25  # largest / smallest median SQL per batch, over all runs
LINEAR_EXPONENT = 1.15  # cost ~ N^k between consecutive sizes; 1 is linear
MAX_DRIFT = 1.5  # median batch time, last quarter of a run / first quarter
MIN_CPU = 2.0  # seconds: shorter runs are not judged on their CPU exponent
RSS_BYTES_PER_PRODUCT = 1024  # RSS growth slope between the two largest sizes


def addons_dir():
    """Where scripts/lib.sh links the addon: outside the repository, so nothing that walks the
    addon loops back into it."""
    digest = hashlib.sha1(str(REPO).encode()).hexdigest()[:12]
    tmp = os.environ.get("TMPDIR", "/tmp")
    return Path(os.environ.get("ADDONS_DIR") or f"{tmp}/supplier_connector-addons-{digest}")


def parse_args(argv):
    src = os.environ.get("ODOO_SRC", "/opt/odoo/18.0")
    parser = argparse.ArgumentParser(prog="python -m bench.etm_pull",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sc_bench")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N values")
    parser.add_argument("--batch-sizes", default="50,25",
                        help="the first is used for every size; all are compared at --compare-at")
    parser.add_argument("--compare-at", type=int, default=10000,
                        help="N of the batch-size comparison")
    parser.add_argument("--trigger", choices=("cron", "manual"), default="cron",
                        help="cron commits after every batch, as scheduled runs do (default)")
    parser.add_argument("--no-stock", dest="stock", action="store_false",
                        help="prices only (pull_stock off: no per-product remains request)")
    parser.add_argument("--sql-profile", action="store_true",
                        help="also print the most frequent SQL statements per batch (slower)")
    parser.add_argument("--timeout", type=int, default=25 * 60, help="seconds per child process")
    parser.add_argument("--install", action="store_true",
                        help="install or update supplier_connector in --db first")
    parser.add_argument("--odoo-src", default=src)
    parser.add_argument("--addons-path",
                        default=f"{src}/addons,{src}/odoo/addons,{addons_dir()}")
    # Internal: what a child process does.
    parser.add_argument("--phase", choices=("setup", "pull", "cleanup"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--backend-id", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- child processes: Odoo inside ------------------------------------------------------------
def child(args):
    sys.path.insert(0, args.odoo_src)
    import odoo  # noqa: PLC0415 — only children load Odoo
    import odoo.modules.registry  # noqa: PLC0415

    odoo.tools.config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "supplier.backend" not in env:
            raise SystemExit(f"supplier_connector is not installed in {args.db}: use --install")
        if args.phase == "pull":
            result = pull(odoo, env, args)
        elif args.phase == "setup":
            result = {"backend_id": setup(env, args)}
        else:
            remove_products(env)
            result = {}
    if args.phase != "pull":
        vacuum(args.db)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def remove_run(env):
    """Remove the previous run's connection (bindings, offers, logs, stores go with it by ON
    DELETE CASCADE) and vendor prices, so every run starts with none of them."""
    env["supplier.backend"].with_context(active_test=False).search(
        [("name", "=", BACKEND_NAME)]
    ).unlink()
    env.cr.execute(
        "DELETE FROM product_supplierinfo WHERE partner_id IN "
        "(SELECT id FROM res_partner WHERE name = %s)", [VENDOR_NAME]
    )
    env.cr.commit()


def remove_products(env):
    """At the end: the products too. Through SQL, as unlinking 100,000 products through the ORM
    takes many minutes; nothing but this benchmark references them."""
    remove_run(env)
    # product_supplierinfo.product_id has no index: until VACUUM removes the rows just deleted,
    # the cascade from each product scans them all (minutes at 100,000).
    vacuum(env.cr.dbname, "product_supplierinfo")
    categories = env["product.category"].search([("name", "=", CATEGORY_NAME)])
    env.cr.execute("DELETE FROM product_template WHERE categ_id = ANY(%s)", [categories.ids])
    env.invalidate_all()
    categories.unlink()
    env.cr.commit()


def setup(env, args):
    """A fresh connection with N bindings; products are kept from run to run (their creation,
    about 3 ms each, is the slow part of the setup) and only created when missing."""
    remove_run(env)
    vendor = env["res.partner"].search([("name", "=", VENDOR_NAME)], limit=1) or env[
        "res.partner"
    ].create({"name": VENDOR_NAME, "is_company": True})
    category = env["product.category"].search([("name", "=", CATEGORY_NAME)], limit=1) or env[
        "product.category"
    ].create({"name": CATEGORY_NAME})
    backend = env["supplier.backend"].create({
        "name": BACKEND_NAME,
        "service": "etm",
        "api_url": args.api_url,
        "login": "demo",
        "password": "demo",
        "etm_code_type": "etm",
        "rate_limit": 0,
        "max_retries": 1,
        "batch_size": args.batch,
        "pull_stock": args.stock,
        "partner_id": vendor.id,
    })
    Product = env["product.product"].with_context(tracking_disable=True, mail_create_nolog=True)
    product_ids = Product.search([("categ_id", "=", category.id)], order="id", limit=args.n).ids
    for start in range(0, args.n, CHUNK):
        indexes = range(start, min(start + CHUNK, args.n))
        missing = [i for i in indexes if i >= len(product_ids)]
        product_ids += Product.create([
            {"name": f"Bench product {i}", "categ_id": category.id, "type": "consu"}
            for i in missing
        ]).ids
        # The emulator's synthetic catalogue has ETM codes str(1_000_000 + i).
        env["supplier.product"].create([
            {"backend_id": backend.id, "product_id": product_ids[i],
             "external_code": str(1_000_000 + i)}
            for i in indexes
        ])
        env.cr.commit()
        env.invalidate_all()  # keep the setup's memory flat at 100,000
    return backend.id


def vacuum(db, table=None):
    """Give every run the same start: no dead rows left by the previous run, fresh statistics.

    Each run deletes and inserts up to 100,000 rows per table; a production database has
    autovacuum for that, the benchmark does not wait for it.
    """
    import odoo.sql_db  # noqa: PLC0415

    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr._cnx.autocommit = True  # VACUUM cannot run inside a transaction
        cr.execute(f"VACUUM ANALYZE {table or ''}")
        cr._cnx.autocommit = False


def pull(odoo, env, args):
    """One measured ``_run_offers``; ``odoo.sql_db.sql_counter`` counts queries on every cursor."""
    from odoo.addons.supplier_connector.models.sync_run import SyncRun  # noqa: PLC0415

    sql_db = odoo.sql_db
    # Per batch: SQL counter and clock at each checkpoint (one per batch), read by wrapping the
    # method here rather than instrumenting the engine.
    marks = []
    checkpoint = SyncRun.checkpoint

    def marking_checkpoint(run, *a, **kw):
        marks.append((sql_db.sql_counter, time.perf_counter()))
        return checkpoint(run, *a, **kw)

    SyncRun.checkpoint = marking_checkpoint
    statements = Counter()
    if args.sql_profile:
        import threading  # noqa: PLC0415

        threading.current_thread().query_hooks = [
            lambda cr, query, params, start, delay: statements.update([_normalize(query)])
        ]
    backend = env["supplier.backend"].browse(args.backend_id)
    rss_before = _proc_status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # peak RSS (VmHWM) restarts here: the registry load is not counted
    cpu_before = _cpu_seconds()
    queries_before = sql_db.sql_counter
    start = time.perf_counter()
    log = env["supplier.sync.engine"]._run_offers(backend, trigger=args.trigger)
    wall = time.perf_counter() - start
    queries = sql_db.sql_counter - queries_before
    cpu = _cpu_seconds() - cpu_before
    peak = _proc_status_mb("VmHWM")
    steps = [(q2 - q1, t2 - t1) for (q1, t1), (q2, t2) in zip(marks, marks[1:], strict=False)]
    sql_steps = sorted(q for q, _t in steps) or [queries]
    # Batch time in the last quarter of the run / in the first: above 1 when each batch costs
    # more as the run goes on (e.g. a query that scans what earlier batches wrote).
    quarter = max(len(steps) // 4, 1)
    drift = (_median(t for _q, t in steps[-quarter:]) / _median(t for _q, t in steps[:quarter])
             if steps else 1.0)
    return {
        "n": args.n, "batch": args.batch, "wall": wall, "cpu": cpu, "queries": queries,
        "sql_batch_median": _median(sql_steps), "sql_batch_max": sql_steps[-1], "drift": drift,
        "rss_before": rss_before, "peak_rss": peak,
        # request_details is "login: 1, price: 20, remains: 1000" (the HTTP client's counters).
        "requests": {
            label.strip(): int(count)
            for label, count in (p.split(":") for p in (log.request_details or "").split(",") if p)
        },
        **{name: log[name] for name in ("state", "processed", "updated", "unchanged", "failed",
                                        "not_found")},
        "sql_profile": [(q, c / max(len(marks), 1)) for q, c in statements.most_common(25)],
    }


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_status_mb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key + ":")) / 1024


def _normalize(query):
    """SQL text without the per-row parts, so statements of different batch sizes compare."""
    text = re.sub(r"\s+", " ", str(query))
    text = re.sub(r'SAVEPOINT "[^"]+"', 'SAVEPOINT "…"', text)  # one name per savepoint
    text = re.sub(r"\([^()]*%s[^()]*\)(\s*,\s*\([^()]*%s[^()]*\))+", "(…)", text)
    return re.sub(r"%s(\s*,\s*%s)+", "%s…", text)[:200]


# -- parent: emulators, children, report -----------------------------------------------------
@contextmanager
def emulator(n):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators", "etm", "--port", str(port), "--catalogue", str(n)],
        cwd=REPO, stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # generating 100,000 products takes a few seconds
        while True:
            try:
                with urllib.request.urlopen(base + "/_emulator/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the ETM emulator did not start (catalogue {n})") from None
                time.sleep(0.2)
        yield base + "/api/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_child(args, phase, *extra):
    cmd = [sys.executable, "-m", "bench.etm_pull", "--phase", phase, "--db", args.db,
           "--odoo-src", args.odoo_src, "--addons-path", args.addons_path,
           "--trigger", args.trigger, *extra]
    if not args.stock:
        cmd.append("--no-stock")
    if args.sql_profile:
        cmd.append("--sql-profile")
    try:
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True,
                              timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{phase} {' '.join(extra)}: stopped after {args.timeout} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode or not lines:
        raise SystemExit(f"{phase} {' '.join(extra)}: failed (exit {proc.returncode})")
    return json.loads(lines[-1].removeprefix(RESULT_PREFIX))


def measure(args, n, batch):
    with emulator(n) as api_url:
        t0 = time.perf_counter()
        created = run_child(args, "setup", "--n", str(n), "--batch", str(batch),
                            "--api-url", api_url)
        print(f"  N={n} batch={batch}: setup {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        row = run_child(args, "pull", "--n", str(n), "--batch", str(batch),
                        "--backend-id", str(created["backend_id"]))
    print(f"  N={n} batch={batch}: pull {row['wall']:.1f} s", file=sys.stderr)
    wrong = {k: row[k] for k in ("processed", "updated") if row[k] != n}
    if wrong or row["failed"] or row["state"] != "done":
        raise SystemExit(f"N={n} batch={batch}: expected {n} processed and updated, none failed, "
                         f"got {row}")
    return row


def report(args, rows, compare, load):
    lines = [
        f"# ETM pull benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Trigger {args.trigger}, stock {'on' if args.stock else 'off'}, emulator without latency "
        f"or rate limit, database {args.db}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end.",
        "",
        "| N | batch | wall s | products/s | Odoo CPU s | HTTP login/price/remains | SQL total "
        "| SQL/batch median, max | peak RSS MB | RSS growth MB |",
        "|---:|---:|---:|---:|---:|---|---:|---|---:|---:|",
    ]
    for r in rows + compare:
        req = r["requests"]
        lines.append(
            f"| {r['n']:,} | {r['batch']} | {r['wall']:.1f} | {r['n'] / r['wall']:,.0f} | "
            f"{r['cpu']:.1f} | {req.get('login', 0)} / {req.get('price', 0):,} / "
            f"{req.get('remains', 0):,} | {r['queries']:,} | {r['sql_batch_median']}, "
            f"{r['sql_batch_max']} | {r['peak_rss']:.0f} | {r['peak_rss'] - r['rss_before']:.1f} |"
        )
    lines += ["", *targets(args, rows, compare)]
    for r in rows + compare:
        if r["sql_profile"]:
            lines += ["", f"Most frequent SQL per batch, N={r['n']:,} batch {r['batch']}:", ""]
            lines += [f"    {count:7.2f}  {query}" for query, count in r["sql_profile"]]
    return "\n".join(lines) + "\n"


def targets(args, rows, compare):
    def verdict(ok):
        return "met" if ok else "NOT MET"

    def name(r):
        return f"N={r['n']:,}/{r['batch']}"

    runs = rows + compare
    want = {name(r): (1, math.ceil(r["n"] / r["batch"]), r["n"] if args.stock else 0) for r in runs}
    got = {name(r): tuple(r["requests"].get(k, 0) for k in ("login", "price", "remains"))
           for r in runs}
    remains = ", 1 remains per product" if args.stock else ""
    out = [
        f"- Price requests = ⌈N/batch⌉ + 1 login{remains}: {verdict(want == got)} "
        "(login/price/remains, measured vs expected: "
        + "; ".join(f"{key} {got[key]} vs {want[key]}" for key in want) + ")"
    ]
    medians = [r["sql_batch_median"] for r in runs]
    out.append(
        f"- SQL per batch bounded, not growing with batch size or N: "
        f"{verdict(max(medians) <= SQL_PER_BATCH_SPREAD * min(medians))} (median per batch: "
        + ", ".join(f"{r['sql_batch_median']} at {name(r)}" for r in runs)
        + f"; allowed spread ×{SQL_PER_BATCH_SPREAD})"
    )
    if len(rows) < 2:
        out.append("- Linear cost and flat memory: need two sizes or more")
        return out

    def exponents(key):
        return [math.log(b[key] / a[key]) / math.log(b["n"] / a["n"])
                for a, b in zip(rows, rows[1:], strict=False)]

    def show(values):
        return ", ".join(f"{v:.2f}" for v in values)

    sql_k, cpu_k, wall_k = exponents("queries"), exponents("cpu"), exponents("wall")
    # A run of under MIN_CPU seconds mostly measures warm-up (first queries, caches).
    cpu_judged = [k for k, a in zip(cpu_k, rows, strict=False) if a["cpu"] >= MIN_CPU]
    drift = [r["drift"] for r in rows]
    linear = max(sql_k + cpu_judged) <= LINEAR_EXPONENT and max(drift) <= MAX_DRIFT
    out.append(
        f"- Cost linear in N: {verdict(linear)} (cost ~ N^k between consecutive sizes: "
        f"SQL k = {show(sql_k)}, Odoo CPU k = {show(cpu_k)} (judged from runs of {MIN_CPU} s "
        f"CPU up), allowed k ≤ {LINEAR_EXPONENT}; "
        f"batch time late/early in the run {show(drift)}, allowed ≤ {MAX_DRIFT}; "
        f"wall k = {show(wall_k)}, not judged: it moves with the machine's load)"
    )
    a, b = rows[-2], rows[-1]
    grow_a, grow_b = (r["peak_rss"] - r["rss_before"] for r in (a, b))
    slope = (grow_b - grow_a) * 2**20 / (b["n"] - a["n"])
    out.append(
        f"- Peak memory not growing with N beyond the records: "
        f"{verdict(slope <= RSS_BYTES_PER_PRODUCT)} (RSS growth during the pull {grow_a:.1f} MB "
        f"at N={a['n']:,}, {grow_b:.1f} MB at N={b['n']:,}: {slope:,.0f} bytes per extra product, "
        f"allowed {RSS_BYTES_PER_PRODUCT})"
    )
    return out


def install(args):
    subprocess.run(
        [sys.executable, f"{args.odoo_src}/odoo-bin", "--addons-path", args.addons_path, "-d",
         args.db, "-i", "supplier_connector", "-u", "supplier_connector", "--without-demo=all",
         "--stop-after-init", "--no-http", "--log-level", "warn"],
        check=True,
    )


def main(argv=None):
    args = parse_args(argv)
    if args.phase:
        return child(args)
    link = addons_dir() / "supplier_connector"
    if not link.exists():  # Odoo needs the addon in a directory named after it
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO)
    if args.install:
        install(args)
    load = os.getloadavg()  # other work on the machine slows the wall clock, not the counts
    sizes = sorted({int(n) for n in args.sizes.split(",")})  # ascending: k compares neighbours
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    plan = [(n, batch_sizes[0]) for n in sizes]
    # The batch-size comparison reuses the size run at --compare-at when there is one.
    if len(batch_sizes) > 1 and args.compare_at not in sizes:
        plan.append((args.compare_at, batch_sizes[0]))
    plan += [(args.compare_at, b) for b in batch_sizes[1:]]
    rows, compare, failure = [], [], None
    try:
        for n, batch in plan:
            row = measure(args, n, batch)
            (rows if n in sizes and batch == batch_sizes[0] else compare).append(row)
    except SystemExit as exc:  # report what was measured, then fail
        failure = exc
    try:
        run_child(args, "cleanup")
    except SystemExit as exc:
        failure = failure or exc
    if rows or compare:
        text = report(args, rows, compare, load)
        print(text)
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"etm_pull-{datetime.datetime.now():%Y-%m-%d-%H%M}.md"
        path.write_text(text)
        print(f"written to {path.relative_to(REPO)}", file=sys.stderr)
    if failure is not None:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
