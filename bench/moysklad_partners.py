"""Benchmark: MoySklad counterparties ↔ partners, pulled and pushed, against the local emulator.

    python -m bench.moysklad_partners --db sc_bench --counterparties 10000 [--install]

1. pull (N synthetic counterparties at the emulator, each with a bank account and a contact
   person; its limits ON: 45 units per 3 s, so the budget and the 429s are real): the
   scheduled partner sync (``sync_partners``, MoySklad is the master) in a fresh process:
   * ``first pull``: every counterparty becomes a partner (with its bank account and contact):
     ⌈N/1000⌉ list pages, plus ⌈N/100⌉ pages of details (accounts and contact persons: MoySklad
     expands collections only in pages of 100);
   * ``unchanged pull``: the watermark cleared, the whole list read again: ⌈N/1000⌉ requests,
     nothing written, no details asked.
2. push (N partners, customers with a valid INN, a bank account and a contact, to a connection
   where Odoo is the master, an emulator with no counterparty):
   * ``first push``: the partners are looked up first (more than 100: the counterparty list is
     read once), then created in ⌈N/1000⌉ bulk POSTs with their syncIds;
   * ``unchanged push``: nothing changed since: no request.
Per run: requests per endpoint (emulator), answers 429, wall and CPU time, SQL per batch, RSS at
each checkpoint (memory flat).

Decisions: the emulator runs in this (parent) process, in a thread, as in :mod:`bench.moysklad`;
Odoo runs in child processes. Partners are removed at the end through SQL.
"""

import argparse
import math
import sys
import time

from bench import harness

PULL_BACKEND = "Benchmark MoySklad partners pull"
PUSH_BACKEND = "Benchmark MoySklad partners push"
VENDOR_NAME = "Benchmark MoySklad partners vendor"
PUSHED_PREFIX = "Bench partner "
MEMORY_FLAT = 1.10


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.moysklad_partners",
                                     description=__doc__.split("\n")[0])
    harness.add_common_args(parser, db="sc_bench")
    parser.add_argument("--counterparties", type=int, default=10_000, help="N")
    parser.add_argument("--parts", default="pull,push", help="pull, push (comma-separated)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- child processes --------------------------------------------------------------------------
def child(args):
    with harness.odoo_env(args) as (odoo, env):
        result = STEPS[(args.phase, args.step)](odoo, env, args)
    if args.phase != "pull":
        harness.vacuum(args.db)
    harness.print_result(result)


def _backend(env, args, name, direction):
    from emulators.moysklad_demo import DEMO_LOGIN, DEMO_PASSWORD  # noqa: PLC0415

    vendor = harness.find_or_create(env, "res.partner", VENDOR_NAME, is_company=True)
    backend = env["supplier.backend"].create({
        "name": name, "service": "moysklad", "partner_id": vendor.id, "login": DEMO_LOGIN,
        "password": DEMO_PASSWORD, "api_url": args.api_url, "rate_limit": 0, "max_retries": 3,
        "moysklad_partners_direction": direction,
    })
    env.cr.commit()
    return backend


def _remove(env):
    """Partners of previous runs (pulled: mapped to the pull connection; pushed: by name)."""
    env.cr.execute(
        "SELECT b.partner_id FROM supplier_partner b JOIN supplier_backend s ON s.id = "
        "b.backend_id WHERE s.name = %s", [PULL_BACKEND])
    pulled = [row[0] for row in env.cr.fetchall()]
    for name in (PULL_BACKEND, PUSH_BACKEND):
        harness.remove_run(env, name, VENDOR_NAME)
    env.cr.execute("SELECT id FROM res_partner WHERE name LIKE %s", [PUSHED_PREFIX + "%"])
    ids = pulled + [row[0] for row in env.cr.fetchall()]
    if ids:
        env.cr.execute("DELETE FROM res_partner WHERE parent_id = ANY(%s)", [ids])
        env.cr.execute("DELETE FROM res_partner WHERE id = ANY(%s)", [ids])
    env.cr.execute("DELETE FROM res_bank WHERE name = 'ПАО Сбербанк' OR name LIKE 'Bench bank%%'")
    env.invalidate_all()
    env.cr.commit()


def setup_pull(odoo, env, args):
    _remove(env)
    return {"backend_id": _backend(env, args, PULL_BACKEND, "pull").id}


def setup_push(odoo, env, args):
    from emulators.moysklad_demo import _inn10  # noqa: PLC0415

    backend = _backend(env, args, PUSH_BACKEND, "push")
    bank = env["res.bank"].create({"name": "Bench bank", "bic": "044525999"})
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    for start in range(0, args.n, 2000):
        Partner.create([{
            "name": f"{PUSHED_PREFIX}{i}", "is_company": True, "customer_rank": 1,
            "vat": _inn10(i + 1), "ru_kpp": "770101001", "email": f"bench{i}@example.com",
            "phone": f"+7499{i:07d}", "street": f"ул. Тестовая, {i}", "city": "Москва",
            "bank_ids": [(0, 0, {"acc_number": f"40702810{i:012d}", "bank_id": bank.id})],
            "child_ids": [(0, 0, {"name": f"Contact {i}", "email": f"c{i}@example.com"})],
        } for i in range(start, min(start + 2000, args.n))])
        env.cr.commit()
        env.invalidate_all()
    return {"backend_id": backend.id}


def measure(odoo, env, args):
    from bench.moysklad import _measure  # noqa: PLC0415

    backend = env["supplier.backend"].browse(args.backend_id)
    if args.step == "pull-again":
        backend.moysklad_partners_watermark = False
        env.cr.commit()
    result = _measure(odoo, env, {"n": args.n}, lambda: env["supplier.sync.engine"]
                      ._run_scheduled(backend, "sync_partners"))
    env.cr.execute("SELECT count(*), count(external_id) FROM supplier_partner "
                   "WHERE backend_id = %s", [backend.id])
    result["bindings"], result["bound"] = env.cr.fetchone()
    env.cr.execute("SELECT count(*) FROM res_partner_bank k JOIN supplier_partner b ON "
                   "b.partner_id = k.partner_id WHERE b.backend_id = %s", [backend.id])
    result["bank_accounts"] = env.cr.fetchone()[0]
    return result


def cleanup(odoo, env, args):
    _remove(env)
    return {}


STEPS = {
    ("setup", "pull"): setup_pull, ("setup", "push"): setup_push,
    ("pull", "pull"): measure, ("pull", "pull-again"): measure,
    ("pull", "push"): measure, ("pull", "push-again"): measure,
    ("cleanup", "all"): cleanup,
}


# -- the parent -------------------------------------------------------------------------------
def run_child(args, phase, step, *extra):
    return harness.run_child(args, "bench.moysklad_partners", phase, "--step", step, *extra)


def _figures(emulator):
    return {"counts": emulator.counts(),
            "statuses": {str(k): v for k, v in emulator.status_counts().items()}}


def bench(args, out):

    n = str(args.counterparties)
    parts = args.parts.split(",")
    if "pull" in parts:
        _bench_pull(args, out, n)
    if "push" in parts:
        _bench_push(args, out, n)


def _bench_pull(args, out, n):
    from emulators.moysklad import MoyskladEmulator  # noqa: PLC0415

    emulator = MoyskladEmulator("empty", counterparties=args.counterparties,
                                record_limit=1000).start()
    try:
        backend = str(run_child(args, "setup", "pull", "--n", n,
                                "--api-url", emulator.api_url)["backend_id"])
        for step, label in (("pull", "first pull"), ("pull-again", "unchanged pull")):
            time.sleep(3.1)
            emulator.reset()
            row = run_child(args, "pull", step, "--n", n, "--backend-id", backend)
            row.update(label=label, **_figures(emulator))
            out.append(row)
            print(f"  {label}: {row['wall']:.1f} s, {row['counts']}", file=sys.stderr)
    finally:
        emulator.stop()


def _bench_push(args, out, n):
    from emulators.moysklad import MoyskladEmulator  # noqa: PLC0415

    emulator = MoyskladEmulator("empty", record_limit=1000).start()
    try:
        backend = str(run_child(args, "setup", "push", "--n", n,
                                "--api-url", emulator.api_url)["backend_id"])
        for step, label in (("push", "first push"), ("push-again", "unchanged push")):
            time.sleep(3.1)
            emulator.reset()
            row = run_child(args, "pull", step, "--n", n, "--backend-id", backend)
            row.update(label=label, **_figures(emulator))
            row["stored"] = len(emulator.db["counterparty"])
            out.append(row)
            print(f"  {label}: {row['wall']:.1f} s, {row['counts']}", file=sys.stderr)
    finally:
        emulator.stop()


def _requests(row, method_label):
    return sum(v for k, v in row["counts"].items() if k == method_label)


def report(args, rows):
    n = args.counterparties
    pages, details = math.ceil(n / 1000), math.ceil(n / 100)
    lines = [f"# MoySklad partners benchmark, N = {n:,}", "",
             "| run | wall s | CPU s | requests (emulator) | 429 | state | created | updated | "
             "unchanged | failed | SQL/batch median (min–max) | RSS MB first ¼ → last | peak |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for row in rows:
        statuses = row["statuses"]
        lines.append(
            f"| {row['label']} | {row['wall']:.1f} | {row['cpu']:.1f} | {row['counts']} | "
            f"{statuses.get('429', 0)} | {row['state']} | {row['created']} | {row['updated']} | "
            f"{row['unchanged']} | {row['failed']} | {row['sql_batch_median']} "
            f"({row['sql_batch_min']}–{row['sql_batch_max']}) | "
            f"{row['rss_quarter']:.0f} → {row['rss_last']:.0f} | {row['peak_rss']:.0f} |")
        lists = _requests(row, "counterparty.list")
        posts = _requests(row, "counterparty.create")
        expected = {
            "first pull": (lists == pages + details and posts == 0,
                           f"{pages} pages + {details} detail pages, 0 POST"),
            "unchanged pull": (lists == pages and posts == 0 and row["updated"] == 0,
                               f"{pages} pages, nothing written"),
            "first push": (posts == pages and row["stored"] == n,
                           f"{pages} POSTs, {n} counterparties stored"),
            "unchanged push": (posts == 0, "0 POST"),
        }[row["label"]]
        verdicts.append((f"{row['label']}: requests ({expected[1]}): lists {lists}, "
                         f"POSTs {posts}", expected[0]))
        verdicts.append((f"{row['label']}: 0 × 429", statuses.get("429", 0) == 0))
        verdicts.append((f"{row['label']}: memory flat (last ≤ {MEMORY_FLAT} × first ¼)",
                         row["rss_last"] <= row["rss_quarter"] * MEMORY_FLAT))
    lines += ["", *[f"- {'PASS' if ok else 'FAIL'} {text}" for text, ok in verdicts]]
    text = "\n".join(lines)
    print(text)
    harness.RESULTS.mkdir(exist_ok=True)
    (harness.RESULTS / f"moysklad_partners-{time.strftime('%Y%m%d-%H%M')}.md").write_text(text)
    return all(ok for _t, ok in verdicts)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.phase:
        return child(args)
    harness.prepare(args)
    rows = []
    try:
        bench(args, rows)
    finally:
        run_child(args, "cleanup", "all")
    return 0 if report(args, rows) else 1


if __name__ == "__main__":
    sys.exit(main())
