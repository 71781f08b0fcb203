#!/usr/bin/env bash
# `make test` / `.ci/run`: the whole test suite of supplier_connector.
#
#   0. ruff check . and pylint-odoo      (fast; SKIP_RUFF=1 to skip both)
#   1. layer 1: pytest api emulators     (pure Python, no Odoo, no database)
#   2. layer 2: Odoo integration tests   (real Odoo 18 + PostgreSQL):
#        a. fresh database sc_test_<pid> WITH demo data: install supplier_connector and run its
#           tests (--test-tags /supplier_connector); Odoo's result line is parsed;
#        c. the same tests through pytest-odoo on that database (tests/ as Odoo developers run it);
#        b. fresh database sc_test_<pid>_nodemo: install WITHOUT demo data, then uninstall the
#           addon through `odoo-bin shell`.
#      Both databases and their filestores are dropped at the end, whatever happens.
#      Any ERROR/CRITICAL line in Odoo's log fails the run. Full log: .build/odoo-test.log
#
# The last line printed is always "N passed, M failed" (both layers; install/uninstall/ruff
# problems count as failures). Exit status is non-zero when M > 0.
#
# When Odoo 18 (ODOO_SRC) or PostgreSQL is not available, layer 2 is SKIPPED with a loud banner
# and that is not a failure - also in CI. Set REQUIRE_ODOO=1 to make it a failure.
#
# Environment: ODOO_SRC, VENV, PYTHON, PGUSER (see scripts/lib.sh), REQUIRE_ODOO, SKIP_RUFF,
#   ODOO_TEST_TIMEOUT (seconds for step 2a, default 2400), ODOO_STEP_TIMEOUT (2b steps, default 900)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
mkdir -p "$BUILD_DIR"

PASSED=0
FAILED=0
NOTES=()
CREATED_DBS=()
ODOO_LOG="$BUILD_DIR/odoo-test.log"
LOG_LINE_RE='^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:,]+ [0-9]+ '
ERROR_LINE_RE="${LOG_LINE_RE}(ERROR|CRITICAL) "
RESULT_RE='odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database'

note() { NOTES+=("$*"); }
fail_check() {
    FAILED=$((FAILED + 1))
    note "FAILED: $*"
}

summary() {
    echo
    echo "---------------------------------------------------------------- summary"
    local n
    for n in "${NOTES[@]}"; do echo "  $n"; done
    echo "$PASSED passed, $FAILED failed"
}

# In this script a setup failure still ends with the summary line.
die() {
    printf '[supplier_connector] ERROR: %s\n' "$*" >&2
    if [ "${BASH_SUBSHELL:-0}" -eq 0 ]; then
        fail_check "$*"
        summary
    fi
    exit 1
}

cleanup() {
    local db
    for db in "${CREATED_DBS[@]}"; do
        drop_db "$db"
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ what is available?
ODOO_OK=""
LAYER2_SKIP=""
if ensure_odoo_src soft; then
    ODOO_OK=1
    if ! ensure_postgres soft; then
        LAYER2_SKIP="$SKIP_REASON"
    fi
else
    LAYER2_SKIP="$SKIP_REASON"
fi

if [ -n "$ODOO_OK" ]; then
    ensure_venv
    ensure_addons_link
    PY="$VENV/bin/python"
else
    PY="$(pure_python)" || die "no Python with pytest + responses + requests, and creating .build/venv-pure failed"
fi
log "Python for layer 1: $PY"

# ------------------------------------------------------------------ 0. ruff
if [ "${SKIP_RUFF:-}" = "1" ]; then
    note "ruff: skipped (SKIP_RUFF=1)"
else
    RUFF=""
    for cand in "$(dirname "$PY")/ruff" "$VENV/bin/ruff" "$(command -v ruff 2>/dev/null || true)"; do
        if [ -n "$cand" ] && [ -x "$cand" ]; then
            RUFF="$cand"
            break
        fi
    done
    if [ -z "$RUFF" ]; then
        note "ruff: not installed, skipped"
    else
        banner "ruff check ."
        if "$RUFF" check .; then  # configuration: .ruff.toml
            note "ruff: ok"
        else
            fail_check "ruff check . (see above)"
        fi
    fi
fi

# ------------------------------------------------------------------ 0b. pylint-odoo
# The Odoo checks of `make lint` (scripts/lint.sh), on the addon as Odoo sees it.
if [ "${SKIP_RUFF:-}" = "1" ]; then
    note "pylint-odoo: skipped (SKIP_RUFF=1)"
elif [ -z "$ODOO_OK" ] || ! "$PY" -c "import pylint_odoo" 2>/dev/null; then
    note "pylint-odoo: skipped (needs Odoo's source and pylint-odoo in its virtualenv)"
else
    banner "pylint --load-plugins=pylint_odoo (scripts/pylintrc)"
    if (cd "$ADDONS_DIR" && PYTHONPATH="${ODOO_SRC}${PYTHONPATH:+:$PYTHONPATH}" \
            "$(dirname "$PY")/pylint" --rcfile="$REPO_ROOT/scripts/pylintrc" \
            -d missing-readme supplier_connector); then
        note "pylint-odoo: ok"
    else
        fail_check "pylint-odoo (see above)"
    fi
fi

# junit_totals FILE: "tests failures errors skipped" of a JUnit XML report (zeros if missing).
junit_totals() {
    "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0, 0, 0)
    sys.exit()
# Count test cases, not the suite's "tests" attribute: that one also counts subtests.
totals = [0, 0, 0, 0]
for case in root.iter("testcase"):
    totals[0] += 1
    for i, kind in ((1, "failure"), (2, "error"), (3, "skipped")):
        if case.find(kind) is not None:
            totals[i] += 1
            break
print(*totals)
EOF
}

# ------------------------------------------------------------------ 1. layer 1: pytest
banner "LAYER 1: pytest api emulators"
JUNIT="$BUILD_DIR/pytest-junit.xml"
rm -f "$JUNIT"
set +e
"$PY" -m pytest -ra --junitxml="$JUNIT" -o junit_family=xunit2 api emulators
PYTEST_RC=$?
set -e
read -r P_TESTS P_FAIL P_ERR P_SKIP < <(junit_totals "$JUNIT")
case "$PYTEST_RC" in
    0 | 1 | 5) ;;
    *)
        # interrupted / internal error / usage error: make sure it counts
        if [ $((P_FAIL + P_ERR)) -eq 0 ]; then P_ERR=1; fi
        ;;
esac
L1_PASSED=$((P_TESTS - P_FAIL - P_ERR - P_SKIP))
PASSED=$((PASSED + L1_PASSED))
FAILED=$((FAILED + P_FAIL + P_ERR))
if [ "$PYTEST_RC" = 5 ]; then
    note "layer 1 (pytest): no tests collected"
else
    note "layer 1 (pytest, exit $PYTEST_RC): $L1_PASSED passed, $((P_FAIL + P_ERR)) failed, $P_SKIP skipped"
fi

# ------------------------------------------------------------------ 2. layer 2: Odoo
# run_odoo LABEL TIMEOUT [shell] ARGS... : run odoo-bin, append its output to $ODOO_LOG, show the
# interesting lines live. Sets RUN_RC and RUN_START (first log line of this run, for grepping).
run_odoo() {
    local label="$1" tmo="$2"
    shift 2
    if [ "${1:-}" = "shell" ]; then
        odoo_cmd shell
        shift
    else
        odoo_cmd
    fi
    printf '\n===== %s: %s\n' "$label" "${ODOO_CMD[*]} $*" >>"$ODOO_LOG"
    RUN_START=$(($(wc -l <"$ODOO_LOG") + 1))
    log "$label (full log: ${ODOO_LOG#"$REPO_ROOT"/})"
    # Live: WARNING/ERROR/CRITICAL lines, our addon's non-DEBUG lines and the test result;
    # tracebacks only under ERROR/CRITICAL lines. Everything goes to the log file.
    local live="${LOG_LINE_RE}(WARNING|ERROR|CRITICAL) |odoo[.]tests[.]result|odoo[.]addons[.]supplier_connector|Module supplier_connector|supplier_connector: "
    set +e
    timeout --foreground -k 30 "$tmo" "${ODOO_CMD[@]}" "$@" 2>&1 \
        | tee -a "$ODOO_LOG" \
        | awk -v pat="$live" -v logre="$LOG_LINE_RE" -v errre="$ERROR_LINE_RE" -v dbgre="${LOG_LINE_RE}DEBUG " '
            BEGIN { show = 1; tb = 1 }
            /^SC_/ { print; fflush(); next }
            $0 ~ logre { show = ($0 ~ pat) && !($0 ~ dbgre); tb = ($0 ~ errre); print_it = show }
            !($0 ~ logre) { print_it = show && tb }
            print_it { print; fflush() }'
    RUN_RC=${PIPESTATUS[0]}
    set -e
    if [ "$RUN_RC" = 124 ] || [ "$RUN_RC" = 137 ]; then
        echo "SC_TIMEOUT: $label did not finish within ${tmo}s" | tee -a "$ODOO_LOG"
    fi
}

# run_errors: ERROR/CRITICAL lines of the last run_odoo
run_errors() {
    tail -n "+$RUN_START" "$ODOO_LOG" | grep -E "$ERROR_LINE_RE" || true
}

show_failure_context() {
    local errs
    errs="$(tail -n "+$RUN_START" "$ODOO_LOG" | grep -E -A 25 "$ERROR_LINE_RE" | head -n 300 || true)"
    if [ -n "$errs" ]; then
        echo "----- ERROR/CRITICAL lines of this step, with context (${ODOO_LOG#"$REPO_ROOT"/}) -----"
        echo "$errs"
    fi
    echo "----- last 60 lines of this step's log -----"
    tail -n "+$RUN_START" "$ODOO_LOG" | tail -n 60
    echo "-----"
}

# step_verdict LABEL [PROBLEM...]: a failed step counts as ONE failure, with all its reasons.
step_verdict() {
    local label="$1"
    shift
    if [ $# -eq 0 ]; then
        note "$label: ok"
        return 0
    fi
    local joined
    joined="$(printf '%s; ' "$@")"
    fail_check "$label: ${joined%; }"
    show_failure_context
    return 1
}

db_query() { psql -d "$1" -XtAqc "$2" 2>/dev/null || true; }

# Databases left behind by a killed run (sc_test_<pid> whose process is gone).
drop_stale_dbs() {
    local db pid
    for db in $(psql -d postgres -XtAqc "SELECT datname FROM pg_database WHERE datname ~ '^sc_test_[0-9]+(_nodemo)?$'" 2>/dev/null); do
        pid="${db#sc_test_}"
        pid="${pid%_nodemo}"
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dropping stale database $db"
            drop_db "$db"
        fi
    done
}

if [ -z "$ODOO_OK" ] || [ -n "$LAYER2_SKIP" ]; then
    banner "LAYER 2 (Odoo integration tests) SKIPPED: $LAYER2_SKIP"
    if [ "${REQUIRE_ODOO:-}" = "1" ]; then
        fail_check "layer 2 required (REQUIRE_ODOO=1) but skipped: $LAYER2_SKIP"
    else
        note "LAYER 2 (Odoo integration tests) SKIPPED: $LAYER2_SKIP"
    fi
else
    : >"$ODOO_LOG"
    drop_stale_dbs
    DB="sc_test_$$"
    DB_NODEMO="sc_test_$$_nodemo"
    CREATED_DBS+=("$DB" "$DB_NODEMO")
    drop_db "$DB"
    drop_db "$DB_NODEMO"

    # ---- 2a. install with demo data + tests
    banner "LAYER 2a: install supplier_connector WITH demo data in $DB and run its tests"
    HTTP_PORT="$(free_port)"
    run_odoo "2a install+tests ($DB)" "${ODOO_TEST_TIMEOUT:-2400}" \
        -d "$DB" -i supplier_connector \
        --test-enable --test-tags /supplier_connector \
        --stop-after-init --log-level=test \
        --http-interface=127.0.0.1 --http-port="$HTTP_PORT" --max-cron-threads=0 </dev/null
    RESULT_LINE="$(tail -n "+$RUN_START" "$ODOO_LOG" | grep -E "$RESULT_RE" | tail -n 1 || true)"
    ERRORS="$(run_errors)"
    PROBLEMS=()
    if [ -n "$RESULT_LINE" ]; then
        read -r O_FAIL O_ERR O_TESTS < <(sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' <<<"$RESULT_LINE")
        PASSED=$((PASSED + O_TESTS - O_FAIL - O_ERR))
        FAILED=$((FAILED + O_FAIL + O_ERR))
        note "layer 2a (Odoo tests, database with demo data): $((O_TESTS - O_FAIL - O_ERR)) passed, $((O_FAIL + O_ERR)) failed of $O_TESTS"
    else
        O_FAIL=0
        O_ERR=0
        PROBLEMS+=("no 'odoo.tests.result' line in the log (Odoo crashed or the addon did not install)")
    fi
    if [ "$RUN_RC" != 0 ] && [ $((O_FAIL + O_ERR)) -eq 0 ]; then
        PROBLEMS+=("odoo-bin exited with status $RUN_RC")
    fi
    if [ -n "$ERRORS" ] && [ $((O_FAIL + O_ERR)) -eq 0 ]; then
        PROBLEMS+=("$(grep -c . <<<"$ERRORS") ERROR/CRITICAL log line(s)")
    fi
    if tail -n "+$RUN_START" "$ODOO_LOG" | grep -Eq 'demo data failed to install'; then
        PROBLEMS+=("demo data failed to install: $(tail -n "+$RUN_START" "$ODOO_LOG" | grep -E 'demo data failed to install' | head -n 3 | sed -E 's/.*: Module //' | tr '\n' ';')")
    fi
    STATE="$(db_query "$DB" "SELECT state || '/' || CASE WHEN demo THEN 'demo' ELSE 'nodemo' END FROM ir_module_module WHERE name = 'supplier_connector'")"
    if [ "$STATE" != "installed/demo" ]; then
        PROBLEMS+=("supplier_connector state in $DB is '${STATE:-missing}', expected 'installed/demo'")
    fi
    step_verdict "layer 2a: install with demo data" ${PROBLEMS[@]+"${PROBLEMS[@]}"} || true

    # ---- 2c. the same Odoo tests through pytest-odoo (how Odoo developers run them)
    banner "LAYER 2c: the Odoo tests again through pytest-odoo, on $DB"
    PO_JUNIT="$BUILD_DIR/pytest-odoo-junit.xml"
    rm -f "$PO_JUNIT"
    set +e
    pytest_odoo "$DB" -q --odoo-http --junitxml="$PO_JUNIT" -o junit_family=xunit2 \
        >>"$ODOO_LOG" 2>&1
    PO_RC=$?
    set -e
    read -r Q_TESTS Q_FAIL Q_ERR Q_SKIP < <(junit_totals "$PO_JUNIT")
    if [ "$Q_TESTS" = 0 ]; then
        fail_check "layer 2c (pytest-odoo, exit $PO_RC): no test ran; see ${ODOO_LOG#"$REPO_ROOT"/}"
    else
        PASSED=$((PASSED + Q_TESTS - Q_FAIL - Q_ERR - Q_SKIP))
        FAILED=$((FAILED + Q_FAIL + Q_ERR))
        note "layer 2c (pytest-odoo, exit $PO_RC): $((Q_TESTS - Q_FAIL - Q_ERR - Q_SKIP)) passed, $((Q_FAIL + Q_ERR)) failed, $Q_SKIP skipped"
        if [ $((Q_FAIL + Q_ERR)) -gt 0 ]; then
            grep -E '^(FAILED|ERROR) ' "$ODOO_LOG" | tail -n 30 || true
        fi
    fi

    # ---- 2b. install without demo data, then uninstall
    banner "LAYER 2b: install supplier_connector WITHOUT demo data in $DB_NODEMO, then uninstall it"
    run_odoo "2b install without demo ($DB_NODEMO)" "${ODOO_STEP_TIMEOUT:-900}" \
        -d "$DB_NODEMO" -i supplier_connector --without-demo=all \
        --stop-after-init --log-level=info --no-http --max-cron-threads=0 </dev/null
    ERRORS="$(run_errors)"
    STATE="$(db_query "$DB_NODEMO" "SELECT state || '/' || CASE WHEN demo THEN 'demo' ELSE 'nodemo' END FROM ir_module_module WHERE name = 'supplier_connector'")"
    PROBLEMS=()
    [ "$RUN_RC" = 0 ] || PROBLEMS+=("odoo-bin exited with status $RUN_RC")
    [ -z "$ERRORS" ] || PROBLEMS+=("$(grep -c . <<<"$ERRORS") ERROR/CRITICAL log line(s)")
    [ "$STATE" = "installed/nodemo" ] || PROBLEMS+=("supplier_connector state is '${STATE:-missing}', expected 'installed/nodemo'")
    if step_verdict "layer 2b: install without demo data" ${PROBLEMS[@]+"${PROBLEMS[@]}"}; then
        run_odoo "2b uninstall ($DB_NODEMO)" "${ODOO_STEP_TIMEOUT:-900}" \
            shell -d "$DB_NODEMO" --log-level=info --no-http --max-cron-threads=0 <<'EOF'
module = env["ir.module.module"].search([("name", "=", "supplier_connector")])
assert module.state == "installed", module.state
module.button_immediate_uninstall()
env.cr.commit()
env.invalidate_all()
module = env["ir.module.module"].search([("name", "=", "supplier_connector")])
assert module.state == "uninstalled", module.state
leftovers = env["ir.model"].search([("model", "=like", "supplier.%")])
assert not leftovers, "models left after uninstall: %s" % leftovers.mapped("model")
print("SC_UNINSTALL_OK", module.state)
EOF
        ERRORS="$(run_errors)"
        PROBLEMS=()
        [ "$RUN_RC" = 0 ] || PROBLEMS+=("odoo-bin shell exited with status $RUN_RC")
        [ -z "$ERRORS" ] || PROBLEMS+=("$(grep -c . <<<"$ERRORS") ERROR/CRITICAL log line(s)")
        tail -n "+$RUN_START" "$ODOO_LOG" | grep -q '^SC_UNINSTALL_OK' || PROBLEMS+=("uninstall script did not complete (no SC_UNINSTALL_OK)")
        step_verdict "layer 2b: uninstall" ${PROBLEMS[@]+"${PROBLEMS[@]}"} || true
    fi
    note "Odoo log: ${ODOO_LOG#"$REPO_ROOT"/}"
fi

summary
[ "$FAILED" -eq 0 ]
