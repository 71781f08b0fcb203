"""What every benchmark shares: where things are, the Odoo child processes, the setup's records
and the cleanup, the measures (``measured``: CPU, SQL, RSS, per batch), the parent's course
(``run_course``, ``run_parts``), the report (``verdict``, ``compose_report``) and its file. A benchmark module adds only its setup, its measurement, its
tables and its checks.

The parent process never loads Odoo: each phase (``setup``, ``pull``, ``cleanup``) runs in a child
process (``python -m bench.<module> --phase …``) that prints one ``BENCH-RESULT {json}`` line, so
the measured pull has a process, and a peak RSS, of its own.
"""

import argparse
import datetime
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
RESULT_PREFIX = "BENCH-RESULT "


def addons_dir():
    """Where scripts/lib.sh links the addon: outside the repository, so nothing that walks the
    addon loops back into it."""
    digest = hashlib.sha1(str(REPO).encode()).hexdigest()[:12]
    tmp = os.environ.get("TMPDIR", "/tmp")
    return Path(os.environ.get("ADDONS_DIR") or f"{tmp}/supplier_connector-addons-{digest}")


def add_common_args(parser, db):
    """The options and the internal child-process flags every benchmark has."""
    src = os.environ.get("ODOO_SRC", "/opt/odoo/18.0")
    parser.add_argument("--db", default=db)
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


# -- child processes: Odoo inside ------------------------------------------------------------
@contextmanager
def odoo_env(args):
    """``(odoo, env)`` on ``args.db`` as superuser, in a child process."""
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
        yield odoo, env


def print_result(result):
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def child_step(args, step):
    """A child process's work: ``step(odoo, env, args)`` on the database, a VACUUM after the
    setup and cleanup phases (not after a measured one), its result printed for the parent."""
    with odoo_env(args) as (odoo, env):
        result = step(odoo, env, args)
    if args.phase != "pull":
        vacuum(args.db)
    print_result(result)


# -- measures --------------------------------------------------------------------------------
def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_status_mb(key):
    """A ``/proc/self/status`` figure in MB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key + ":")) / 1024


def measured(odoo, work, mark_start=True):
    """Run ``work()`` once and measure it: ``(its result, the figures)``.

    Figures: ``wall`` and ``cpu`` seconds; ``queries`` (``odoo.sql_db.sql_counter`` counts every
    cursor's); per batch, between consecutive ``SyncRun.checkpoint`` calls (one a batch, the first
    from the start when ``mark_start``), ``batches``, ``sql_batch_median`` and ``sql_batch_max``
    (no batch: 0, or the whole run without ``mark_start``) and ``drift``, the median batch time
    in the last quarter of the run / in the first (above 1 when each batch costs more as the run
    goes on, e.g. a query that scans what earlier batches wrote); ``rss_before`` and
    ``peak_rss`` MB (the peak restarts here: the registry load is not counted).
    """
    from odoo.addons.supplier_connector.models.sync_run import SyncRun  # noqa: PLC0415

    sql_db = odoo.sql_db
    marks = []
    checkpoint = SyncRun.checkpoint

    def marking_checkpoint(run, *a, **kw):
        marks.append((sql_db.sql_counter, time.perf_counter()))
        return checkpoint(run, *a, **kw)

    SyncRun.checkpoint = marking_checkpoint  # read here rather than instrumenting the engine
    try:
        rss_before = proc_status_mb("VmRSS")
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # peak RSS (VmHWM) restarts here
        cpu_before, queries_before = cpu_seconds(), sql_db.sql_counter
        start = time.perf_counter()
        if mark_start:
            marks.append((queries_before, start))
        result = work()
        wall = time.perf_counter() - start
    finally:
        SyncRun.checkpoint = checkpoint
    queries = sql_db.sql_counter - queries_before
    cpu = cpu_seconds() - cpu_before
    steps = [(q2 - q1, t2 - t1) for (q1, t1), (q2, t2) in zip(marks, marks[1:], strict=False)]
    sql_steps = sorted(q for q, _t in steps) or [0 if mark_start else queries]
    quarter = max(len(steps) // 4, 1)
    drift = (median(t for _q, t in steps[-quarter:]) / median(t for _q, t in steps[:quarter])
             if steps else 1.0)
    return result, {
        "wall": wall, "cpu": cpu, "queries": queries, "batches": len(steps),
        "sql_batch_median": median(sql_steps), "sql_batch_max": sql_steps[-1], "drift": drift,
        "rss_before": rss_before, "peak_rss": proc_status_mb("VmHWM"),
    }


def request_counts(log):
    """A sync log's requests by kind: its ``request_details`` ("login: 1, price: 20") as a dict."""
    return {
        label.strip(): int(count)
        for label, count in (p.split(":") for p in (log.request_details or "").split(",") if p)
    }


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


def remove_run(env, backend_name, vendor_name):
    """Remove the previous run's connection (bindings, offers, logs, stores go with it by ON
    DELETE CASCADE) and vendor prices, so every run starts with none of them."""
    env["supplier.backend"].with_context(active_test=False).search(
        [("name", "=", backend_name)]
    ).unlink()
    env.cr.execute(
        "DELETE FROM product_supplierinfo WHERE partner_id IN "
        "(SELECT id FROM res_partner WHERE name = %s)", [vendor_name]
    )
    env.cr.commit()


def remove_products(env, backend_name, vendor_name, category_name):
    """At the end: the products too. Through SQL, as unlinking 100,000 products through the ORM
    takes many minutes; nothing but the benchmark references them."""
    remove_run(env, backend_name, vendor_name)
    # product_supplierinfo.product_id has no index: until VACUUM removes the rows just deleted,
    # the cascade from each product scans them all (minutes at 100,000).
    vacuum(env.cr.dbname, "product_supplierinfo")
    categories = env["product.category"].search([("name", "=", category_name)])
    env.cr.execute("DELETE FROM product_template WHERE categ_id = ANY(%s)", [categories.ids])
    env.invalidate_all()
    categories.unlink()
    env.cr.commit()


def find_or_create(env, model, name, **values):
    """The record of ``model`` named ``name``, created with ``values`` when there is none (a
    benchmark's vendor, category, pricelist are kept from run to run)."""
    return env[model].search([("name", "=", name)], limit=1) or env[model].create(
        {"name": name, **values})


def bind_skus(env, backend, category, n, product_values, chunk=2000):
    """N bindings of ``backend`` whose code is the internal reference ``sku(i)`` (i from 1) of
    a product of ``category``: products are reused from run to run and created, with
    ``product_values(i)``, only when missing. Returns {sku: product id}."""
    Product = env["product.product"].with_context(tracking_disable=True, mail_create_nolog=True)
    existing = {p.default_code: p.id for p in Product.search([("categ_id", "=", category.id)])}
    for start in range(1, n + 1, chunk):
        numbers = range(start, min(start + chunk, n + 1))
        missing = [i for i in numbers if sku(i) not in existing]
        created = Product.create([
            {"default_code": sku(i), "categ_id": category.id, "type": "consu",
             "is_storable": True, **product_values(i)}
            for i in missing
        ])
        existing.update(zip(created.mapped("default_code"), created.ids, strict=True))
        env["supplier.product"].create([
            {"backend_id": backend.id, "product_id": existing[sku(i)], "external_code": sku(i)}
            for i in numbers
        ])
        env.cr.commit()
        env.invalidate_all()
    return existing


def sku(n):
    """The internal reference of the n-th benchmark product (from 1), as the emulators'
    synthetic goods name it."""
    return f"SKU-{n:06d}"


def bind_products(env, backend, category, n, binding_values, chunk=5000):
    """N bindings of ``backend``: products of ``category`` are reused from run to run (creating
    them, about 3 ms each, is the slow part of a setup) and created only when missing;
    ``binding_values(i)`` gives the service's identity of the i-th one."""
    Product = env["product.product"].with_context(tracking_disable=True, mail_create_nolog=True)
    product_ids = Product.search([("categ_id", "=", category.id)], order="id", limit=n).ids
    for start in range(0, n, chunk):
        indexes = range(start, min(start + chunk, n))
        missing = [i for i in indexes if i >= len(product_ids)]
        product_ids += Product.create([
            {"name": f"Bench product {i}", "categ_id": category.id, "type": "consu"}
            for i in missing
        ]).ids
        env["supplier.product"].create([
            dict(binding_values(i), backend_id=backend.id, product_id=product_ids[i])
            for i in indexes
        ])
        env.cr.commit()
        env.invalidate_all()  # keep the setup's memory flat at 100,000


# -- the parent ------------------------------------------------------------------------------
def prepare(args):
    """The addon link Odoo needs, and the install when asked."""
    link = addons_dir() / "supplier_connector"
    if not link.exists():  # Odoo needs the addon in a directory named after it
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO)
    if args.install:
        subprocess.run(
            [sys.executable, f"{args.odoo_src}/odoo-bin", "--addons-path", args.addons_path,
             "-d", args.db, "-i", "supplier_connector", "-u", "supplier_connector",
             "--without-demo=all", "--stop-after-init", "--no-http", "--log-level", "warn"],
            check=True,
        )


@contextmanager
def emulator_process(service, n, *options):
    """``python -m emulators SERVICE --catalogue N`` on a free port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators", service, "--port", str(port), "--catalogue", str(n),
         *options],
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
                    raise SystemExit(f"the {service} emulator did not start (catalogue {n})") \
                        from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_step(args, module, phase, step, *extra):
    """``run_child`` of a benchmark whose children take a ``--step``."""
    return run_child(args, module, phase, "--step", step, *extra)


def run_child(args, module, phase, *extra):
    """Run one phase in a child process; its result dict, or SystemExit with the reason."""
    cmd = [sys.executable, "-m", module, "--phase", phase, "--db", args.db,
           "--odoo-src", args.odoo_src, "--addons-path", args.addons_path, *extra]
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


def measure_all(cases, measure, cleanup):
    """``[(case, row)]`` for the cases measured before any failure, and that failure (or None).
    ``cleanup`` runs whatever happened."""
    measured, failure = [], None
    try:
        for case in cases:
            measured.append((case, measure(case)))
    except SystemExit as exc:  # report what was measured, then fail
        failure = exc
    try:
        cleanup()
    except SystemExit as exc:
        failure = failure or exc
    return measured, failure


def run_parts(name, args, known, run, cleanup, report):
    """The parent's course for a benchmark of several parts (``args.parts``, among ``known``):
    ``run_course`` with ``run(parts, out)`` and ``cleanup(parts)``."""
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - set(known)
    if unknown:
        raise SystemExit(f"unknown --parts: {', '.join(sorted(unknown))}")
    return run_course(name, args, lambda out: run(parts, out), lambda: cleanup(parts), report)


def run_course(name, args, run, cleanup, report):
    """The parent's course: ``run(out)`` fills ``out``; ``cleanup()`` runs whatever happened;
    then the report (``report(out, load)`` → (text, every check met)) is printed and kept. A
    step that failed keeps what was measured before it. Returns the exit status."""
    prepare(args)
    load = os.getloadavg()
    out, failure = {}, None
    try:
        run(out)
    except SystemExit as exc:  # report what was measured, then fail
        failure = exc
    try:
        cleanup()
    except SystemExit as exc:
        failure = failure or exc
    text, all_met = report(out, load) if out else ("", True)
    if failure is None and not all_met:
        failure = SystemExit("a target is NOT MET (see the report)")
    return publish(name, text, failure)


# -- the report ------------------------------------------------------------------------------
def verdict(ok):
    return "met" if ok else "NOT MET"


def machine(args, load):
    """Where it ran: database, CPUs, load average at the start and now."""
    return (f"database {args.db}, {os.cpu_count()} CPUs, load average {load[0]:.1f} at start, "
            f"{os.getloadavg()[0]:.1f} at end")


def compose_report(title, intro, sections):
    """The Markdown report and whether every check is met. ``sections``: [(table lines, checks)]
    in order, ``checks`` [(ok, text)] listed under their table."""
    lines = [f"# {title}, {datetime.datetime.now():%Y-%m-%d %H:%M}", "", intro, ""]
    checks = []
    for part, part_checks in sections:
        lines += part + [""] + [f"- {text}" for _ok, text in part_checks] + [""]
        checks += part_checks
    return "\n".join(lines), all(ok for ok, _text in checks)


def publish(name, text, failure):
    """Print the report, keep it in bench/results/<name>-<date>.md; the exit status."""
    if text:
        print(text)
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}-{datetime.datetime.now():%Y-%m-%d-%H%M}.md"
        path.write_text(text)
        print(f"written to {path.relative_to(REPO)}", file=sys.stderr)
    if failure is not None:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0
