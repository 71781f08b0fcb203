# shellcheck shell=bash
# Shared helpers for scripts/test.sh, scripts/demo.sh, scripts/bench.sh and scripts/lint.sh.
# Source it; do not run it.
#
# Environment (all optional):
#   ODOO_SRC   Odoo 18.0 community source tree (contains odoo-bin)   default /opt/odoo/18.0
#   VENV       virtualenv used to run Odoo and the tools                default /opt/odoo/venv
#   PYTHON     interpreter used to create VENV when it does not exist  default python3
#   PGUSER     PostgreSQL role used by Odoo (local socket)              default: current OS user

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BUILD_DIR="$REPO_ROOT/.build"
ODOO_SRC="${ODOO_SRC:-/opt/odoo/18.0}"
VENV="${VENV:-/opt/odoo/venv}"
PYTHON="${PYTHON:-python3}"
ODOO_GIT_BRANCH="18.0"
# Odoo needs the addon in a folder named supplier_connector. The link to the repository lives
# outside it, so that nothing walking the addon (translation export, file scans) loops back in.
ADDONS_DIR="${ADDONS_DIR:-${TMPDIR:-/tmp}/supplier_connector-addons-$(printf '%s' "$REPO_ROOT" | sha1sum | cut -c1-12)}"
ADDONS_PATH="$ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$ADDONS_DIR"
ODOO_CONF="$BUILD_DIR/odoo.conf"
DATA_DIR="$BUILD_DIR/data"
PG_ROLE="${PGUSER:-$(id -un)}"

# Why an optional component is unavailable (set by ensure_* when they return 1 in soft mode).
SKIP_REASON=""

log() { printf '[supplier_connector] %s\n' "$*" >&2; }
warn() { printf '[supplier_connector] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[supplier_connector] ERROR: %s\n' "$*" >&2
    exit 1
}
banner() {
    local line="======================================================================"
    printf '\n%s\n%s\n%s\n\n' "$line" "$*" "$line" >&2
}

# --------------------------------------------------------------------------- Debian packages

# What building Odoo's requirements and running it needs from the system (Debian/Ubuntu names).
SYSTEM_PACKAGES=(build-essential python3-dev python3-venv libpq-dev libldap2-dev libsasl2-dev
    libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev postgresql postgresql-client gettext)

# ensure_system_packages: install the missing SYSTEM_PACKAGES when root with apt-get; otherwise
# print the exact apt-get line and go on (the step that needs them then explains its failure).
ensure_system_packages() {
    command -v dpkg-query >/dev/null 2>&1 || return 0  # not Debian: nothing we can check
    local missing=() pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        log "installing system packages: ${missing[*]}"
        if DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "${missing[@]}" >/dev/null; then
            return 0
        fi
        warn "apt-get could not install: ${missing[*]}"
    fi
    warn "missing system packages; install them with:
    sudo apt-get install ${missing[*]}"
    return 0
}

# --------------------------------------------------------------------------- PostgreSQL

# _pg_server_up: the server accepts connections (does not check our role).
_pg_server_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q >/dev/null 2>&1
    else
        psql -d postgres -Xtqc 'SELECT 1' >/dev/null 2>&1
    fi
}

# ensure_postgres [soft]: server running and role $PG_ROLE (superuser) present.
# Hard mode exits on failure; soft mode sets SKIP_REASON and returns 1.
ensure_postgres() {
    local soft="${1:-}"
    ensure_system_packages
    _pg_fail() {
        SKIP_REASON="$1"
        if [ -n "$soft" ]; then return 1; fi
        die "$1"
    }
    if ! command -v psql >/dev/null 2>&1; then
        _pg_fail "PostgreSQL client (psql) not found; install PostgreSQL (Debian: apt-get install postgresql)"
        return 1
    fi
    if ! _pg_server_up; then
        if [ "$(id -u)" = "0" ] && command -v service >/dev/null 2>&1; then
            log "starting PostgreSQL (service postgresql start)"
            service postgresql start >/dev/null 2>&1 || true
        fi
        for _ in $(seq 1 30); do
            _pg_server_up && break
            sleep 1
        done
        if command -v pg_isready >/dev/null 2>&1 && ! _pg_server_up; then
            _pg_fail "PostgreSQL server is not running and could not be started (try: service postgresql start)"
            return 1
        fi
    fi
    if ! psql -d postgres -Xtqc 'SELECT 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ]; then
            log "creating PostgreSQL superuser role '$PG_ROLE'"
            su postgres -c "createuser -U postgres -s '$PG_ROLE'" >/dev/null 2>&1 || true
        fi
        if ! psql -d postgres -Xtqc 'SELECT 1' >/dev/null 2>&1; then
            _pg_fail "cannot connect to PostgreSQL as role '$PG_ROLE' (create it: su postgres -c \"createuser -s $PG_ROLE\")"
            return 1
        fi
    fi
    local is_super
    is_super="$(psql -d postgres -XtAqc "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")"
    if [ "$is_super" != "t" ]; then
        _pg_fail "PostgreSQL role '$PG_ROLE' cannot create databases (grant: ALTER ROLE \"$PG_ROLE\" CREATEDB)"
        return 1
    fi
    return 0
}

# drop_db NAME: drop a database (terminating its connections) and its Odoo filestore.
drop_db() {
    local db="$1"
    dropdb --if-exists --force "$db" >/dev/null 2>&1 \
        || dropdb --if-exists "$db" >/dev/null 2>&1 \
        || warn "could not drop database $db"
    rm -rf "${DATA_DIR:?}/filestore/$db"
}

# --------------------------------------------------------------------------- Odoo source

_odoo_src_missing_help() {
    cat >&2 <<EOF
[supplier_connector] Odoo 18.0 source not found at ODOO_SRC=$ODOO_SRC (no odoo-bin there),
[supplier_connector] and 'git clone --depth 1 --branch $ODOO_GIT_BRANCH https://github.com/odoo/odoo' failed.
[supplier_connector] Provide Odoo 18.0 community in one of these ways, then re-run:
[supplier_connector]   * point ODOO_SRC at an existing checkout:   ODOO_SRC=/path/to/odoo-18.0 make ...
[supplier_connector]   * clone it yourself:  git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo /opt/odoo/18.0
EOF
}

# ensure_odoo_src [soft]: $ODOO_SRC/odoo-bin exists and is Odoo 18.0; clones upstream if missing.
ensure_odoo_src() {
    local soft="${1:-}"
    if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
        local created="" parent
        parent="$(dirname "$ODOO_SRC")"
        if command -v git >/dev/null 2>&1 \
            && { [ ! -e "$ODOO_SRC" ] || [ -z "$(ls -A "$ODOO_SRC" 2>/dev/null)" ]; }; then
            [ -e "$ODOO_SRC" ] || created=1
            [ -e "$parent" ] || created=2
            log "Odoo not found at $ODOO_SRC; cloning odoo/odoo branch $ODOO_GIT_BRANCH from GitHub (shallow)"
            if mkdir -p "$parent" 2>/dev/null \
                && git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=60 \
                    clone --depth 1 --branch "$ODOO_GIT_BRANCH" https://github.com/odoo/odoo "$ODOO_SRC" </dev/null; then
                :
            else
                # remove only what this attempt created
                if [ -n "$created" ]; then rm -rf "$ODOO_SRC"; fi
                if [ "$created" = 2 ]; then rmdir "$parent" 2>/dev/null || true; fi
            fi
        fi
    fi
    if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
        SKIP_REASON="Odoo 18.0 source not found at ODOO_SRC=$ODOO_SRC and cloning it from GitHub failed"
        _odoo_src_missing_help
        if [ -n "$soft" ]; then return 1; fi
        exit 1
    fi
    if ! grep -Eq '^version_info = \(18, 0' "$ODOO_SRC/odoo/release.py" 2>/dev/null; then
        SKIP_REASON="ODOO_SRC=$ODOO_SRC is not Odoo 18.0 ($(grep -E '^version_info' "$ODOO_SRC/odoo/release.py" 2>/dev/null || echo 'no odoo/release.py'))"
        if [ -n "$soft" ]; then return 1; fi
        die "$SKIP_REASON"
    fi
    return 0
}

# --------------------------------------------------------------------------- virtualenv

_reqs_hash() {
    {
        cat "$ODOO_SRC/requirements.txt" "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-dev.txt"
        "$VENV/bin/python" -c 'import sys; print(sys.version)'
        echo "cbor2 5.4.2->5.6.2"
    } | sha256sum | cut -d' ' -f1
}

# ensure_venv: $VENV exists with Odoo's requirements and ours. Fast path: stamp file with a hash of
# the requirement files. Odoo's cbor2==5.4.2 pin does not build on Python 3.11: use 5.6.2 instead.
ensure_venv() {
    local stamp="$VENV/.supplier_connector-requirements.sha256"
    ensure_system_packages
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV with $PYTHON"
        "$PYTHON" -m venv "$VENV" || die "could not create virtualenv $VENV (Debian: apt-get install python3-venv)"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel \
            || die "pip could not upgrade itself in $VENV"
    fi
    local want
    want="$(_reqs_hash)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    mkdir -p "$BUILD_DIR"
    sed -E 's/cbor2==5\.4\.2/cbor2==5.6.2/' "$ODOO_SRC/requirements.txt" >"$BUILD_DIR/odoo-requirements.txt"
    log "installing Odoo's Python requirements into $VENV (this can take a while the first time)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$BUILD_DIR/odoo-requirements.txt" \
        || die "pip install of Odoo's requirements failed. System packages usually needed to build them (Debian):
    apt-get install build-essential python3-dev libpq-dev libldap2-dev libsasl2-dev libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev"
    log "installing supplier_connector requirements (requirements.txt, requirements-dev.txt) into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$REPO_ROOT/requirements.txt" -r "$REPO_ROOT/requirements-dev.txt" \
        || die "pip install of requirements.txt / requirements-dev.txt failed"
    echo "$want" >"$stamp"
}

# pure_python [IMPORTS]: print an interpreter that can run the pure-Python tools without Odoo
# (default check: pytest >= 8.4 - pytest.ini relies on it -, responses, requests): $VENV's if
# usable, else $PYTHON's, else a small venv .build/venv-pure built from PyPI with
# requirements.txt + requirements-dev.txt.
pure_python() {
    local check="${1:-import pytest, responses, requests; assert tuple(int(x) for x in pytest.__version__.split('.')[:2]) >= (8, 4)}"
    local cand
    for cand in "$VENV/bin/python" "$(command -v "$PYTHON" 2>/dev/null || true)"; do
        if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c "$check" >/dev/null 2>&1; then
            echo "$cand"
            return 0
        fi
    done
    local pv="$BUILD_DIR/venv-pure"
    local stamp="$pv/.requirements.sha256" want
    want="$(cat "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "creating $pv (requirements.txt + requirements-dev.txt from PyPI)"
        mkdir -p "$BUILD_DIR"
        "$PYTHON" -m venv "$pv" >&2 || die "could not create $pv"
        "$pv/bin/python" -m pip install -q --disable-pip-version-check \
            -r "$REPO_ROOT/requirements.txt" -r "$REPO_ROOT/requirements-dev.txt" >&2 \
            || die "pip install into $pv failed"
        echo "$want" >"$stamp"
    fi
    echo "$pv/bin/python"
}

# --------------------------------------------------------------------------- addon + odoo-bin

# ensure_addons_link: $ADDONS_DIR/supplier_connector -> repo root (the clone may have any name),
# plus .build/odoo.conf so a user's ~/.odoorc or $ODOO_RC never leaks into our runs.
ensure_addons_link() {
    mkdir -p "$ADDONS_DIR" "$DATA_DIR"
    ln -sfn "$REPO_ROOT" "$ADDONS_DIR/supplier_connector"
    [ -f "$ADDONS_DIR/supplier_connector/__manifest__.py" ] \
        || die "addon link $ADDONS_DIR/supplier_connector does not resolve to the repository"
    cat >"$ODOO_CONF" <<EOF
; generated by scripts/lib.sh - overwritten on every run
[options]
addons_path = $ADDONS_PATH
data_dir = $DATA_DIR
EOF
}

# odoo_cmd [shell]: set the array ODOO_CMD to the odoo-bin command line (interpreter from $VENV,
# our config file, addons path and data dir); append your own arguments. Use it where a program
# is needed (e.g. under `timeout`); otherwise call odoo_bin.
odoo_cmd() {
    ODOO_CMD=("$VENV/bin/python" "$ODOO_SRC/odoo-bin")
    if [ "${1:-}" = "shell" ]; then ODOO_CMD+=(shell); fi
    ODOO_CMD+=(-c "$ODOO_CONF" --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR")
}

# odoo_bin [shell] ARGS...: run odoo-bin from $ODOO_SRC with $VENV, our config and addons path.
odoo_bin() {
    if [ "${1:-}" = "shell" ]; then
        odoo_cmd shell
        shift
    else
        odoo_cmd
    fi
    "${ODOO_CMD[@]}" "$@"
}

# free_port: print a TCP port nobody listens on right now.
free_port() {
    "${VENV}/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_in_use PORT
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pytest_odoo DB [PYTEST ARGS...]: the Odoo tests (tests/) through pytest-odoo on database DB,
# where the addon is installed. pytest must see the addon under its module name, so it runs on
# the link in $ADDONS_DIR (absolute paths: a relative one would resolve to the clone's own name),
# without the repository's pytest.ini (which is for layer 1 and disables the odoo plugin).
pytest_odoo() {
    local db="$1"
    shift
    (
        cd "$ADDONS_DIR" \
            && PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m pytest \
                -c /dev/null --rootdir="$ADDONS_DIR" -p no:cacheprovider \
                --odoo-database="$db" --odoo-config="$ODOO_CONF" \
                "$ADDONS_DIR/supplier_connector/tests" "$@"
    )
}
