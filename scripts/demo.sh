#!/usr/bin/env bash
# `make demo`: a ready-to-click Odoo with supplier_connector.
#
#   1. PostgreSQL running, Odoo 18 source, virtualenv, $ADDONS_DIR/supplier_connector link (outside the repo);
#   2. database $DEMO_DB (default supplier_demo) dropped and created again with the addon and
#      demo data (admin / admin);
#   3. the ETM iPro, Shate-M, IMSKLAD, MoySklad and UDOMA emulators on http://127.0.0.1:8801,
#      :8802, :8803, :8804 and :8805, and a second MoySklad account on :8806 (ETM_PORT,
#      SHATE_PORT, IMSKLAD_PORT, MOYSKLAD_PORT, UDOMA_PORT, MOYSKLAD_PUSH_PORT; the demo
#      connections point there), logs
#      .build/emulator-NAME.log, pids .build/emulator-NAME.pid;
#   4. a first "Sync now" of every supplier connection; the MoySklad demo connection imports the
#      emulator's catalogue (MoySklad is the master), the second one pushes the Odoo products of
#      its category to the second account (Odoo is the master; then scheduled, only changes);
#      the IMSKLAD demo connection sends sale orders on confirmation and validates deliveries
#      when shipped, and its demo sale order is confirmed (so sent to the emulator); the UDOMA
#      demo connection pushes its catalogue, prices and stock and pulls the marketplace orders;
#   5. Odoo in the foreground on http://localhost:$PORT (default 8069); once it answers, the
#      IMSKLAD emulator walks the demo sale order through its statuses 0 -> 1 -> ... -> 9 -> 11
#      with a tracking number, calling Odoo back (log .build/demo-imsklad-walk.log). Ctrl-C
#      stops Odoo and the emulators.
#
# Environment: DEMO_DB, PORT, ETM_PORT, SHATE_PORT, IMSKLAD_PORT, MOYSKLAD_PORT, UDOMA_PORT,
# MOYSKLAD_PUSH_PORT, ODOO_SRC, VENV, PYTHON, PGUSER (see scripts/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

DEMO_DB="${DEMO_DB:-supplier_demo}"
PORT="${PORT:-8069}"
# The demo connections (demo/supplier_demo.xml) point at 127.0.0.1:8801 (ETM) and :8802
# (Shate-M); with other ports the first-sync step below re-points them.
ETM_PORT="${ETM_PORT:-8801}"
SHATE_PORT="${SHATE_PORT:-8802}"
IMSKLAD_PORT="${IMSKLAD_PORT:-8803}"
MOYSKLAD_PORT="${MOYSKLAD_PORT:-8804}"
UDOMA_PORT="${UDOMA_PORT:-8805}"
# The second MoySklad account (demo/moysklad_demo.xml: the connection where Odoo is the master).
MOYSKLAD_PUSH_PORT="${MOYSKLAD_PUSH_PORT:-8806}"
# The IMSKLAD demo connection's callback token and key (demo/imsklad_demo.xml; step 4 sets them
# again): the emulator calls http://127.0.0.1:$PORT/supplier_connector/imsklad/TOKEN with KEY.
IMSKLAD_CALLBACK_TOKEN="imsklad-demo-callback-token"
IMSKLAD_CALLBACK_KEY="imsklad-callback-demo-3c8e1a7f"
IMSKLAD_CALLBACK_URL="http://127.0.0.1:$PORT/supplier_connector/imsklad/$IMSKLAD_CALLBACK_TOKEN"
INSTALL_LOG="$BUILD_DIR/demo-install.log"

# ------------------------------------------------------------------ 1. environment
ensure_postgres
ensure_odoo_src
ensure_venv
ensure_addons_link

if port_in_use "$PORT"; then
    die "port $PORT is already in use (another Odoo, or an earlier 'make demo'?). Stop it or run: PORT=8070 make demo"
fi

# ------------------------------------------------------------------ emulator helpers
# stop_emulator NAME / start_emulator NAME PORT: one background emulator per NAME, which is
# the service (etm, moysklad...) or SERVICE-LABEL for a second one (moysklad-push),
# pid in .build/emulator-NAME.pid, log in .build/emulator-NAME.log.
stop_emulator() {
    local name="$1" pid_file="$BUILD_DIR/emulator-$1.pid" pid
    [ -f "$pid_file" ] || return 0
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    # only a process that is really our emulator (the pid may have been reused)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m emulators ${name%%-*} "; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
}

stop_emulators() {
    stop_emulator etm
    stop_emulator shate
    stop_emulator imsklad
    stop_emulator moysklad
    stop_emulator udoma
    stop_emulator moysklad-push
}

# start_emulator NAME PORT [OPTIONS...]: OPTIONS go to `python -m emulators NAME`.
start_emulator() {
    local name="$1" port="$2" pid_file="$BUILD_DIR/emulator-$1.pid" emu_log="$BUILD_DIR/emulator-$1.log"
    shift 2
    stop_emulator "$name"
    if port_in_use "$port"; then
        die "port $port ($name emulator) is already in use by another program; free it or set $(printf %s "${name^^}" | tr - _)_PORT"
    fi
    log "starting the $name emulator on http://127.0.0.1:$port (log: ${emu_log#"$REPO_ROOT"/})"
    "$VENV/bin/python" -m emulators "${name%%-*}" --port "$port" --catalogue demo "$@" >"$emu_log" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 60); do
        port_in_use "$port" && return 0
        kill -0 "$(cat "$pid_file")" 2>/dev/null || break
        sleep 0.25
    done
    tail -n 30 "$emu_log" >&2 || true
    die "the $name emulator did not start (see ${emu_log#"$REPO_ROOT"/})"
}

# The background IMSKLAD walk (step 5): stopped with the emulators.
WALK_PID=""
stop_all() {
    if [ -n "$WALK_PID" ]; then kill "$WALK_PID" 2>/dev/null || true; fi
    stop_emulators
}

trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ 2. database
log "(re)creating database $DEMO_DB with supplier_connector and demo data (a few minutes; log: ${INSTALL_LOG#"$REPO_ROOT"/})"
drop_db "$DEMO_DB"
if ! odoo_bin -d "$DEMO_DB" -i supplier_connector --stop-after-init --no-http \
    --max-cron-threads=0 --log-level=warn >"$INSTALL_LOG" 2>&1 </dev/null; then
    tail -n 60 "$INSTALL_LOG" >&2
    die "installing supplier_connector in $DEMO_DB failed (full log: ${INSTALL_LOG#"$REPO_ROOT"/})"
fi
if grep -Eq 'demo data failed to install' "$INSTALL_LOG"; then
    grep -E -A 20 'demo data failed to install' "$INSTALL_LOG" | head -n 40 >&2
    die "demo data failed to install (full log: ${INSTALL_LOG#"$REPO_ROOT"/})"
fi

# partner_autocomplete (installed with mail) asks Odoo's servers on the internet and logs an
# ERROR for each call it cannot make: not in the demo database.
odoo_bin shell -d "$DEMO_DB" --no-http --max-cron-threads=0 --log-level=warn >>"$INSTALL_LOG" 2>&1 <<'EOF' \
    || warn "could not uninstall partner_autocomplete (see ${INSTALL_LOG#"$REPO_ROOT"/})"
env["ir.module.module"].search([("name", "=", "partner_autocomplete"), ("state", "=", "installed")]).button_immediate_uninstall()
EOF

# ------------------------------------------------------------------ 3. emulators
start_emulator etm "$ETM_PORT"
start_emulator shate "$SHATE_PORT"
start_emulator imsklad "$IMSKLAD_PORT" --callback-url "$IMSKLAD_CALLBACK_URL" \
    --callback-key "$IMSKLAD_CALLBACK_KEY"
start_emulator moysklad "$MOYSKLAD_PORT"
start_emulator udoma "$UDOMA_PORT"
# Reference data only (stores, price types, currencies): the products come from Odoo.
start_emulator moysklad-push "$MOYSKLAD_PUSH_PORT" --catalogue empty

# ------------------------------------------------------------------ 4. first sync
log "first sync of the supplier connections (odoo-bin shell)"
SYNC_OUT="$BUILD_DIR/demo-first-sync.log"
if SC_ETM_PORT="$ETM_PORT" SC_SHATE_PORT="$SHATE_PORT" SC_IMSKLAD_PORT="$IMSKLAD_PORT" \
    SC_MOYSKLAD_PORT="$MOYSKLAD_PORT" SC_UDOMA_PORT="$UDOMA_PORT" \
    SC_MOYSKLAD_PUSH_PORT="$MOYSKLAD_PUSH_PORT" \
    SC_IMSKLAD_TOKEN="$IMSKLAD_CALLBACK_TOKEN" SC_IMSKLAD_KEY="$IMSKLAD_CALLBACK_KEY" SC_PORT="$PORT" \
    odoo_bin shell -d "$DEMO_DB" --no-http --max-cron-threads=0 --log-level=warn \
    >"$SYNC_OUT" 2>&1 <<'EOF'
import os
env.ref("base.user_admin").password = "admin"
backends = env["supplier.backend"].search([])
for default, port in (("8801", os.environ["SC_ETM_PORT"]), ("8802", os.environ["SC_SHATE_PORT"]),
                      ("8803", os.environ["SC_IMSKLAD_PORT"]),
                      ("8804", os.environ["SC_MOYSKLAD_PORT"]),
                      ("8805", os.environ["SC_UDOMA_PORT"]),
                      ("8806", os.environ["SC_MOYSKLAD_PUSH_PORT"])):
    for backend in backends.filtered(lambda b: "127.0.0.1:" + default in (b.api_url or "")):
        backend.api_url = backend.api_url.replace("127.0.0.1:" + default, "127.0.0.1:" + port)
# Shate-M: load agreements, addresses, locations and statuses, then pick the first of each.
for backend in backends.filtered(lambda b: b.service == "shate"):
    backend.action_test_connection()
    refs = backend.reference_ids
    backend.shate_agreement_id = refs.filtered(lambda r: r.kind == "agreement")[:1]
    backend.shate_delivery_address_id = refs.filtered(lambda r: r.kind == "delivery_address")[:1]
env.cr.commit()
# MoySklad: organisations, stores, price types and currencies, then the catalogue (products
# created in Odoo, prices in roubles), before the stock below. Its prices are in roubles, the
# demo company's currency (demo/supplier_demo.xml).
for backend in backends.filtered(lambda b: b.service == "moysklad"):
    backend.action_test_connection()
    env.cr.commit()
    if backend.moysklad_products_direction == "pull":
        backend.action_import_catalogue()
        env.cr.commit()
# MoySklad, Odoo is the master: the products of its category (one with an image) go to the
# second account; the scheduler then pushes only what changes.
import base64
from odoo.addons.supplier_connector.emulators.server import make_png
lamp = env.ref("supplier_connector.demo_product_moysklad_push_lamp")
if not lamp.image_1920:
    lamp.image_1920 = base64.b64encode(make_png(128, 128, (196, 154, 60)))
for backend in backends.filtered(lambda b: b.service == "moysklad"
                                 and b.moysklad_products_direction == "push"):
    backend.action_push_products()
    env.cr.commit()
    log = env["supplier.sync.log"].search([("backend_id", "=", backend.id),
                                           ("operation", "=", "push_products")], limit=1)
    print("SC_DEMO_MOYSKLAD_PUSH %s %s created=%s updated=%s unchanged=%s failed=%s" % (
        backend.id, log.state, log.created, log.updated, log.unchanged, log.failed))
# IMSKLAD: the goods go to the warehouse first, then its stock comes back.
backends.filtered(lambda b: b.service == "imsklad").action_push_products()
env.cr.commit()
backends.filtered(lambda b: b.service != "udoma").action_sync_offers()
env.cr.commit()
# UDOMA: catalogue, then prices and stock of both shops, then the marketplace orders.
for backend in backends.filtered(lambda b: b.service == "udoma"):
    backend.action_push_products()
    backend.action_push_assortment()
    backend.action_pull_orders()
    env.cr.commit()
    print("SC_DEMO_UDOMA_ORDERS %d" % env["sale.order"].search_count([("udoma_backend_id", "=", backend.id)]))
print("SC_DEMO_SYNC_OK %d connection(s)" % len(backends))
# IMSKLAD: send sale orders on confirmation, validate deliveries when shipped, the callback
# token and key the emulator was started with; then the demo order is confirmed, so sent.
# The callback URL shown on the connection is built from web.base.url (Odoo updates it when
# admin logs in): this demo's port from the start.
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:" + os.environ["SC_PORT"])
imsklad = env.ref("supplier_connector.demo_backend_imsklad")
imsklad.write({
    "imsklad_send_on_confirm": True, "imsklad_validate_on_ship": True,
    "imsklad_callback_token": os.environ["SC_IMSKLAD_TOKEN"],
    "imsklad_callback_key": os.environ["SC_IMSKLAD_KEY"],
})
order = env.ref("supplier_connector.demo_sale_order_imsklad")
order.action_confirm()
env.cr.commit()
print("SC_DEMO_IMSKLAD_ORDER %s %s" % (order.name, order.supplier_order_ids[:1].state or "-"))
EOF
then
    grep '^SC_DEMO_SYNC_OK' "$SYNC_OUT" >&2 || true
    grep '^SC_DEMO_UDOMA_ORDERS' "$SYNC_OUT" >&2 || true
    grep '^SC_DEMO_MOYSKLAD_PUSH' "$SYNC_OUT" >&2 || true
    grep '^SC_DEMO_IMSKLAD_ORDER' "$SYNC_OUT" >&2 || true
else
    tail -n 40 "$SYNC_OUT" >&2
    warn "the first sync failed (full log: ${SYNC_OUT#"$REPO_ROOT"/}); Odoo starts anyway - see the connection's sync logs"
fi

# ------------------------------------------------------------------ 5. Odoo
# The IMSKLAD walk, in the background: once Odoo answers (and has loaded the database, so the
# first callback does not wait for it), the emulator walks the demo order through its statuses
# and sends the tracking number after "shipped" (its /_emulator/callback_walk, in a thread).
IMSKLAD_ORDER="$(sed -n 's/^SC_DEMO_IMSKLAD_ORDER \([^ ]*\) sent$/\1/p' "$SYNC_OUT" | head -n 1)"
WALK_LOG="$BUILD_DIR/demo-imsklad-walk.log"
if [ -n "$IMSKLAD_ORDER" ]; then
    SC_ODOO="http://127.0.0.1:$PORT" SC_EMULATOR="http://127.0.0.1:$IMSKLAD_PORT" \
        SC_ORDER="$IMSKLAD_ORDER" "$VENV/bin/python" "$REPO_ROOT/scripts/demo_imsklad_walk.py" \
        >"$WALK_LOG" 2>&1 </dev/null &
    WALK_PID=$!
    IMSKLAD_LINE="IMSKLAD: sale order $IMSKLAD_ORDER was sent to the emulator, which walks it through its statuses
once Odoo is up (Sales > Orders > $IMSKLAD_ORDER: Warehouse status and chatter; log ${WALK_LOG#"$REPO_ROOT"/})."
else
    warn "the IMSKLAD demo order was not sent (see ${SYNC_OUT#"$REPO_ROOT"/}): no status walk"
    IMSKLAD_LINE="IMSKLAD: the demo sale order was not sent (see ${SYNC_OUT#"$REPO_ROOT"/})."
fi

banner "Open http://localhost:$PORT — login admin / admin — Inventory > Products: open a product, tab Supplier offers
Supplier connections: Inventory > Configuration > Supplier connections.
$IMSKLAD_LINE
MoySklad: the connection 'MoySklad (demo emulator)' pulls its catalogue; 'MoySklad, Odoo is the master' pushed
the products of the category 'Pushed to MoySklad (demo)' to the second account (change one: the scheduled push sends it).
Emulators: ETM http://127.0.0.1:$ETM_PORT, Shate-M http://127.0.0.1:$SHATE_PORT, IMSKLAD http://127.0.0.1:$IMSKLAD_PORT, MoySklad http://127.0.0.1:$MOYSKLAD_PORT and http://127.0.0.1:$MOYSKLAD_PUSH_PORT (second account), UDOMA http://127.0.0.1:$UDOMA_PORT
Ctrl-C stops Odoo and the emulators."
# Not exec: the EXIT trap must stop the emulators when Odoo exits.
set +e
odoo_bin -d "$DEMO_DB" --db-filter="^${DEMO_DB}\$" --http-port="$PORT" </dev/null
rc=$?
set -e
exit "$rc"
