# Shared helpers for the project's scripts. Sourced, never run.
# Everything this project installs or starts lives under $SPECTASK_LOCAL (default: .local/ in the repo),
# so removing that folder returns the machine to where it was.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPECTASK_LOCAL="${SPECTASK_LOCAL:-$REPO_ROOT/.local}"
case "$SPECTASK_LOCAL" in /*) ;; *) SPECTASK_LOCAL="$PWD/$SPECTASK_LOCAL" ;; esac
LIBRDKAFKA_PREFIX="$SPECTASK_LOCAL/librdkafka"
TANSU_BIN="$SPECTASK_LOCAL/tansu/bin/tansu"
LOG_DIR="$SPECTASK_LOCAL/logs"
RUN_DIR="$SPECTASK_LOCAL/run"

# The local PostgreSQL cluster: PG_DIR holds its data folder (PG_DATA) and, as pg_ctl writes it as the cluster's
# user, the server log (PG_LOG). Normally that is $SPECTASK_LOCAL/postgres and .local/logs/postgres.log.
# As root, the server runs as the postgres user (initdb refuses root), who can not reach a checkout under a
# private directory (root's home is mode 700, say). Then the cluster lives in the postgres user's home instead
# (/var/tmp if that is not writable), in a folder named after a hash of $SPECTASK_LOCAL so each checkout keeps
# its own; `scripts/services status` says where, `scripts/services reset` deletes it.
PG_DIR="$SPECTASK_LOCAL/postgres"
PG_LOG="$LOG_DIR/postgres.log"
PG_RELOCATED=0
# pg_user_reaches DIR: the postgres user can enter DIR (its nearest existing ancestor while DIR does not exist).
pg_user_reaches() {
  local dir="$1"
  while [ ! -e "$dir" ]; do dir="$(dirname "$dir")"; done
  runuser -u postgres -- test -x "$dir" 2>/dev/null
}
# SPECTASK_LOCAL itself is made enterable for the postgres user when the cluster is created; its parent decides.
if [ "$(id -u)" = 0 ] && id -u postgres >/dev/null 2>&1 && ! pg_user_reaches "$(dirname "$SPECTASK_LOCAL")"; then
  pg_base="$(getent passwd postgres | cut -d: -f6 || true)"
  if [ -z "$pg_base" ] || ! runuser -u postgres -- test -d "$pg_base" -a -w "$pg_base" 2>/dev/null; then
    pg_base=/var/tmp
  fi
  PG_DIR="$pg_base/spectask-postgres-$(printf '%s' "$SPECTASK_LOCAL" | sha256sum | cut -c1-12)"
  PG_LOG="$PG_DIR/postgres.log"
  PG_RELOCATED=1
  unset pg_base
fi
PG_DATA="$PG_DIR/data"

# Local service defaults (loopback only, non-default ports so they never clash with system services).
SPECTASK_PG_PORT="${SPECTASK_PG_PORT:-55432}"
SPECTASK_KAFKA_PORT="${SPECTASK_KAFKA_PORT:-19092}"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root (directly when we are root, through sudo otherwise).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Build and link flags so SwiftPM and every binary it produces use the project's librdkafka.
swift_build_flags() {
  printf '%s\n' -Xlinker -rpath -Xlinker "$LIBRDKAFKA_PREFIX/lib"
}
export_build_env() {
  export PKG_CONFIG_PATH="$LIBRDKAFKA_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
}

# External services: KAFKA_BOOTSTRAP_SERVERS / POSTGRES_URL (or POSTGRES_HOSTNAME...) switch the
# local ones off. These helpers say whether the local service is the one in use.
using_local_kafka() { [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; }
using_local_postgres() { [ -z "${POSTGRES_URL:-}" ] && [ -z "${POSTGRES_HOSTNAME:-}" ]; }

# Point the Swift code (which reads these variables) at the local services unless told otherwise.
export_service_env() {
  if using_local_kafka; then export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$SPECTASK_KAFKA_PORT"; fi
  if using_local_postgres; then
    export POSTGRES_URL="postgres://spectask@127.0.0.1:$SPECTASK_PG_PORT/spectask?sslmode=disable"
  fi
}

# Which build the scripts make and run: `release` for everything that runs the system (scripts/up, the workers,
# the runner: figures are quoted from release builds), `debug` for the tests (scripts/test sets it).
SPECTASK_CONFIGURATION="${SPECTASK_CONFIGURATION:-release}"

# swift_build ARGS...: build with the project's librdkafka (pkg-config path for the compiler, rpath for the binaries).
swift_build() {
  export_build_env
  swift build -c "$SPECTASK_CONFIGURATION" -Xlinker -rpath -Xlinker "$LIBRDKAFKA_PREFIX/lib" "$@"
}

# build_progress: filters `swift build` output down to a progress line every 10% and every error or warning
# of this project, so a long first build shows it is alive without flooding the terminal.
build_progress() {
  awk '
    match($0, /^\[[0-9]+\/[0-9]+\]/) {
      split(substr($0, 2, RLENGTH - 2), n, "/")
      pct = int(n[1] * 100 / n[2])
      if (pct >= shown + 10) { shown = pct - pct % 10; printf "    building: %d%% (%d/%d steps)\n", pct, n[1], n[2]; fflush() }
      next
    }
    /error:/ || (/warning:/ && index($0, ENVIRON["REPO_ROOT"] "/Sources") == 1) { print; fflush(); next }
    /^Build (of product .* )?complete|^Compiling plugin|^Build complete/ { print "    " $0; fflush() }
  '
}

# The built spectask binary of $SPECTASK_CONFIGURATION (after swift_build).
spectask_bin() {
  echo "$(swift build -c "$SPECTASK_CONFIGURATION" --show-bin-path)/spectask"
}

# The binary the background services run: the release build, or the debug one when only that exists (after
# scripts/test alone).
service_bin() {
  local release debug
  release="$(SPECTASK_CONFIGURATION=release spectask_bin)"
  debug="$(SPECTASK_CONFIGURATION=debug spectask_bin)"
  if [ -x "$release" ]; then echo "$release"; else echo "$debug"; fi
}

# pinned_venv VENV REQUIREMENTS WHAT: makes VENV a venv holding exactly the pinned REQUIREMENTS (installed with
# --no-deps, so the file is the whole environment; `pip check` confirms it fits together), from PyPI on the first run
# or when the file (or the Python version) changes. WHAT names the tools in messages.
pinned_venv() {
  local venv="$1" requirements="$2" what="$3" python want stamp
  python="$(command -v python3)" || die "python3 is missing (on Debian: apt-get install python3 python3-venv)"
  want="$(cat "$requirements" <("$python" --version) | sha256sum | cut -d' ' -f1)"
  stamp="$venv/.requirements.sha256"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  step "Installing the pinned dependencies of $what into $venv (${requirements#"$REPO_ROOT"/})"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "python3 -m venv $venv failed (on Debian's own python3: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements" \
    || die "pip could not install ${requirements#"$REPO_ROOT"/} into $venv (PyPI reachable?)"
  "$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null \
    || die "the pinned dependencies do not fit together: $("$venv/bin/python" -m pip check 2>&1 | head -5)"
  echo "$want" >"$stamp"
}

# stop_pidfile PIDFILE: stops every process whose pid a test harness wrote to PIDFILE (one a line) and that still
# runs: SIGTERM, SIGKILL after 20 s. For when tests could not stop their processes themselves (killed, crashed).
stop_pidfile() {
  local pid
  [ -f "$1" ] || return 0
  while read -r pid; do
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done <"$1"
}
