#!/usr/bin/env bash
# `make demo`: a ready-to-click Odoo with supplier_connector.
#
#   1. PostgreSQL running, Odoo 18 source, virtualenv, $ADDONS_DIR/supplier_connector link (outside the repo);
#   2. database $DEMO_DB (default supplier_demo) dropped and created again with the addon and
#      demo data (admin / admin);
#   3. the ETM iPro, Shate-M and IMSKLAD emulators on http://127.0.0.1:8801, :8802 and :8803
#      (ETM_PORT, SHATE_PORT, IMSKLAD_PORT;
#      the demo connections point there), logs .build/emulator-NAME.log, pids .build/emulator-NAME.pid;
#   4. a first "Sync now" of every supplier connection;
#   5. Odoo in the foreground on http://localhost:$PORT (default 8069). Ctrl-C stops Odoo and
#      the emulator.
#
# Environment: DEMO_DB, PORT, ETM_PORT, SHATE_PORT, IMSKLAD_PORT, ODOO_SRC, VENV, PYTHON, PGUSER (see scripts/lib.sh).
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
# stop_emulator NAME / start_emulator NAME PORT: one background emulator per service,
# pid in .build/emulator-NAME.pid, log in .build/emulator-NAME.log.
stop_emulator() {
    local name="$1" pid_file="$BUILD_DIR/emulator-$1.pid" pid
    [ -f "$pid_file" ] || return 0
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    # only a process that is really our emulator (the pid may have been reused)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m emulators $name"; then
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
}

start_emulator() {
    local name="$1" port="$2" pid_file="$BUILD_DIR/emulator-$1.pid" emu_log="$BUILD_DIR/emulator-$1.log"
    stop_emulator "$name"
    if port_in_use "$port"; then
        die "port $port ($name emulator) is already in use by another program; free it or set ${name^^}_PORT"
    fi
    log "starting the $name emulator on http://127.0.0.1:$port (log: ${emu_log#"$REPO_ROOT"/})"
    "$VENV/bin/python" -m emulators "$name" --port "$port" --catalogue demo >"$emu_log" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 60); do
        port_in_use "$port" && return 0
        kill -0 "$(cat "$pid_file")" 2>/dev/null || break
        sleep 0.25
    done
    tail -n 30 "$emu_log" >&2 || true
    die "the $name emulator did not start (see ${emu_log#"$REPO_ROOT"/})"
}

trap stop_emulators EXIT
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

# ------------------------------------------------------------------ 3. emulators
start_emulator etm "$ETM_PORT"
start_emulator shate "$SHATE_PORT"
start_emulator imsklad "$IMSKLAD_PORT"

# ------------------------------------------------------------------ 4. first sync
log "first sync of the supplier connections (odoo-bin shell)"
SYNC_OUT="$BUILD_DIR/demo-first-sync.log"
if SC_ETM_PORT="$ETM_PORT" SC_SHATE_PORT="$SHATE_PORT" SC_IMSKLAD_PORT="$IMSKLAD_PORT" odoo_bin shell -d "$DEMO_DB" --no-http --max-cron-threads=0 --log-level=warn \
    >"$SYNC_OUT" 2>&1 <<'EOF'
import os
env.ref("base.user_admin").password = "admin"
backends = env["supplier.backend"].search([])
for default, port in (("8801", os.environ["SC_ETM_PORT"]), ("8802", os.environ["SC_SHATE_PORT"]),
                      ("8803", os.environ["SC_IMSKLAD_PORT"])):
    for backend in backends.filtered(lambda b: "127.0.0.1:" + default in (b.api_url or "")):
        backend.api_url = backend.api_url.replace("127.0.0.1:" + default, "127.0.0.1:" + port)
# Shate-M: load agreements, addresses, locations and statuses, then pick the first of each.
for backend in backends.filtered(lambda b: b.service == "shate"):
    backend.action_test_connection()
    refs = backend.reference_ids
    backend.shate_agreement_id = refs.filtered(lambda r: r.kind == "agreement")[:1]
    backend.shate_delivery_address_id = refs.filtered(lambda r: r.kind == "delivery_address")[:1]
env.cr.commit()
# IMSKLAD: the goods go to the warehouse first, then its stock comes back.
backends.filtered(lambda b: b.service == "imsklad").action_push_products()
env.cr.commit()
backends.action_sync_offers()
env.cr.commit()
print("SC_DEMO_SYNC_OK %d connection(s)" % len(backends))
EOF
then
    grep '^SC_DEMO_SYNC_OK' "$SYNC_OUT" >&2 || true
else
    tail -n 40 "$SYNC_OUT" >&2
    warn "the first sync failed (full log: ${SYNC_OUT#"$REPO_ROOT"/}); Odoo starts anyway - see the connection's sync logs"
fi

# ------------------------------------------------------------------ 5. Odoo
banner "Open http://localhost:$PORT — login admin / admin — Inventory > Products: open a product, tab Supplier offers
Supplier connections: Inventory > Configuration > Supplier connections.
Emulators: ETM http://127.0.0.1:$ETM_PORT, Shate-M http://127.0.0.1:$SHATE_PORT, IMSKLAD http://127.0.0.1:$IMSKLAD_PORT
Ctrl-C stops Odoo and the emulators."
# Not exec: the EXIT trap must stop the emulators when Odoo exits.
set +e
odoo_bin -d "$DEMO_DB" --db-filter="^${DEMO_DB}\$" --http-port="$PORT" </dev/null
rc=$?
set -e
exit "$rc"
