#!/usr/bin/env bash
# CI step "Debian package": packages the `peps` binary the test runs already built (dev profile,
# no second build), installs the .deb, checks what it put where, runs `peps config check` and
# `peps serve` as the unit does (user peps, the unit's ExecStart, environment file, umask, no
# capabilities, no new privileges; there is no systemd in CI), waits for /health and /ready,
# stops it, reinstalls (the key file must survive), purges, and leaves the machine as it found
# it, also on failure.
#
# Needs root, or sudo without a password: it installs a package and creates a system user.
# Without either it stops before installing anything and says so.
#
# Production packages are release builds: `cargo deb -p peps-cli` (docs/packaging.md).
#
# Environment: PEPS_PACKAGE_CHECK_PORT (default: a free port).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
# A free loopback port unless told: the default 8080 may be taken by a demo on this machine.
PORT=${PEPS_PACKAGE_CHECK_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
HEALTH_TIMEOUT=60

say() { printf '[package] %s\n' "$*"; }
# Whether the process runs (an exited child stays a zombie until the shell reaps it).
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
fail() {
  printf '[package] FAILED: %s\n' "$*" >&2
  exit 1
}

# ---- root, or sudo ---------------------------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
    say "not root: dpkg, runuser and the server run through sudo"
  else
    fail "needs root or password-less sudo (installs a package, creates the system user peps); nothing was installed"
  fi
fi
as_root() { "${SUDO[@]}" "$@"; }

# Never touch a real installation on this machine.
if dpkg-query -W -f='${Status}' peps 2>/dev/null | grep -q 'installed\|config-files'; then
  fail "a package named peps is already on this machine (dpkg -l peps); this check installs and purges its own: run it elsewhere"
fi

STEP_START=$(date +%s)
WORK=$(mktemp -d)
SERVER_PID=""
INSTALLED=no
USER_EXISTED=no
getent passwd peps >/dev/null && USER_EXISTED=yes
ETC_EXISTED=no
[ -e /etc/peps ] && ETC_EXISTED=yes

cleanup() {
  local status=$?
  set +e
  if [ -n "$SERVER_PID" ] && running "$SERVER_PID"; then
    as_root kill -TERM "$SERVER_PID" 2>/dev/null
    sleep 2
    as_root kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  if [ "$INSTALLED" = yes ]; then
    as_root dpkg --purge peps >/dev/null 2>&1
  fi
  # What the purge keeps on purpose (the key file, the user), when this check made them.
  if [ "$ETC_EXISTED" = no ]; then
    as_root rm -rf /etc/peps
  fi
  if [ "$USER_EXISTED" = no ] && getent passwd peps >/dev/null; then
    as_root deluser --quiet --system peps >/dev/null 2>&1 || as_root userdel peps
    getent group peps >/dev/null && as_root groupdel peps 2>/dev/null
  fi
  if [ "$status" -ne 0 ] && [ -s "$WORK/serve.log" ]; then
    echo "---- last lines of peps serve's log ----" >&2
    tail -n 40 "$WORK/serve.log" >&2
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then
    say "cleaned up"
  else
    say "cleaned up after the failure above" >&2
  fi
}
trap cleanup EXIT

# ---- cargo-deb, pinned ------------------------------------------------------------------------
if cargo deb --version 2>/dev/null | grep -qx "cargo-deb $CARGO_DEB_VERSION"; then
  say "cargo-deb $CARGO_DEB_VERSION already installed"
else
  say "installing cargo-deb $CARGO_DEB_VERSION (about a minute)"
  start=$(date +%s)
  cargo install --quiet --locked cargo-deb --version "$CARGO_DEB_VERSION" --target-dir "$WORK/cargo-deb"
  rm -rf "$WORK/cargo-deb"
  say "cargo-deb installed in $(($(date +%s) - start)) s"
fi

# ---- the package, from the dev-profile binary -------------------------------------------------
# A no-op when the test runs built it already.
start=$(date +%s)
cargo build --quiet -p peps-cli --bin peps
say "dev binary up to date in $(($(date +%s) - start)) s"
start=$(date +%s)
# cargo-deb warns that the dev profile is meant for tests only: that is what this is.
cargo deb --quiet -p peps-cli --no-build --profile dev --fast --output "$WORK/" >"$WORK/deb.out"
DEB=$(find "$WORK" -maxdepth 1 -name 'peps_*.deb' | head -n 1)
[ -n "$DEB" ] || fail "cargo deb made no peps_*.deb"
say "built $(basename "$DEB") ($(du -h "$DEB" | cut -f1)) in $(($(date +%s) - start)) s"
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'
dpkg-deb --contents "$DEB" | awk '{print $1, $2, $6}'

# ---- install ----------------------------------------------------------------------------------
start=$(date +%s)
INSTALLED=yes
as_root dpkg -i "$DEB"
say "installed"

expect_stat() { # path, "owner:group mode"
  local got
  got=$(as_root stat -c '%U:%G %a' "$1")
  [ "$got" = "$2" ] || fail "$1 is $got, expected $2"
  say "  $1: $got"
}
expect_stat /usr/bin/peps "root:root 755"
expect_stat /etc/peps "root:peps 750"
expect_stat /etc/peps/peps.toml "root:peps 640"
expect_stat /etc/peps/peps.env "root:root 600"
expect_stat /etc/peps/wallet.keys "peps:peps 600"
expect_stat /var/lib/peps "peps:peps 750"
dpkg-query -W -f='${Conffiles}\n' peps | grep -q '/etc/peps/peps.toml' || fail "peps.toml is not a conffile"
dpkg-query -W -f='${Conffiles}\n' peps | grep -q '/etc/peps/peps.env' || fail "peps.env is not a conffile"
[ "$(getent passwd peps | cut -d: -f7)" = /usr/sbin/nologin ] || fail "user peps has a login shell"
[ "$(id -u peps)" -lt 1000 ] || fail "user peps is not a system user"
/usr/bin/peps --version

UNIT=$(dpkg -L peps | grep '/systemd/system/peps.service$' | head -n 1)
[ -n "$UNIT" ] || fail "the package holds no peps.service"
say "unit: $UNIT"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$UNIT" || fail "systemd-analyze verify $UNIT"
  # Offline: no running systemd needed. At most 2.0; the unit scores 1.1 today.
  exposure=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  say "systemd-analyze security: exposure $exposure (0 best, 10 worst)"
  awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.0) }' ||
    fail "the unit's exposure $exposure is above 2.0: a hardening line went missing"
else
  say "systemd-analyze not installed: unit not verified"
fi

# ---- config check and serve, as the unit would -----------------------------------------------
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
EXEC_START=$(unit_value ExecStart)
WORKDIR=$(unit_value WorkingDirectory)
UMASK=$(unit_value UMask)
ENV_FILE=$(unit_value EnvironmentFile | sed 's/^-//')
[ "$(unit_value User)" = peps ] || fail "the unit does not run as peps"
say "ExecStart=$EXEC_START"

# The environment systemd gives the service: a clean one, plus the EnvironmentFile's lines.
SERVICE_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
  HOME=/var/lib/peps USER=peps LOGNAME=peps)
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  SERVICE_ENV+=("$line")
done < <(as_root cat "$ENV_FILE" 2>/dev/null || true)
SERVICE_ENV+=("PEPS_SERVER__LISTEN=127.0.0.1:$PORT" "PEPS_SERVER__PUBLIC_URL=http://127.0.0.1:$PORT")

as_root runuser -u peps -- /usr/bin/peps --config /etc/peps/peps.toml config check >"$WORK/check.out" ||
  fail "peps config check as peps: $(cat "$WORK/check.out")"
say "peps config check (as peps): $(head -n 1 "$WORK/check.out")"

# setpriv: user peps, no new privileges, no capabilities at all (bounding, inheritable,
# ambient), the unit's umask and working directory.
# Not through as_root: a function in the background is a subshell, and $! would be its pid,
# not the server's. With sudo, $! is sudo's, which passes signals on.
"${SUDO[@]}" env -i "${SERVICE_ENV[@]}" setpriv --reuid=peps --regid=peps --init-groups \
  --no-new-privs --inh-caps=-all --ambient-caps=-all --bounding-set=-all \
  sh -c "umask $UMASK && cd $WORKDIR && exec $EXEC_START" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

say "waiting for http://127.0.0.1:$PORT/health (at most $HEALTH_TIMEOUT s)"
deadline=$(($(date +%s) + HEALTH_TIMEOUT))
code=000
while [ "$(date +%s)" -lt "$deadline" ]; do
  running "$SERVER_PID" || fail "peps serve exited before answering"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
[ "$code" = 200 ] || fail "no 200 from /health within $HEALTH_TIMEOUT s (last: $code)"
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")
[ "$ready" = 200 ] || fail "/ready answered $ready"
say "/health and /ready answer 200 ($(($(date +%s) - start)) s after dpkg -i)"

# What the running server wrote, and with which rights (UMask=0077).
expect_stat /var/lib/peps/peps.db "peps:peps 600"
expect_stat /var/lib/peps/blobs "peps:peps 700"

as_root kill -TERM "$SERVER_PID"
for _ in $(seq 1 30); do
  running "$SERVER_PID" || break
  sleep 1
done
running "$SERVER_PID" && fail "peps serve still runs 30 s after SIGTERM"
wait "$SERVER_PID" || fail "peps serve stopped with status $?"
SERVER_PID=""
grep -q 'PEPS stopped' "$WORK/serve.log" || fail "peps serve did not log its clean stop"
say "stopped cleanly on SIGTERM"

# ---- reinstall: the key file and the data stay ------------------------------------------------
key_sum=$(as_root sha256sum /etc/peps/wallet.keys)
as_root dpkg -i "$DEB" >/dev/null
[ "$(as_root sha256sum /etc/peps/wallet.keys)" = "$key_sum" ] || fail "reinstalling changed the key file"
as_root test -e /var/lib/peps/peps.db || fail "reinstalling lost the database"
say "reinstalled: key file and database untouched"

# ---- purge ------------------------------------------------------------------------------------
as_root dpkg --purge peps
INSTALLED=no
[ ! -e /usr/bin/peps ] || fail "/usr/bin/peps is still there after the purge"
[ ! -e /var/lib/peps ] || fail "/var/lib/peps is still there after the purge"
[ ! -e /etc/peps/peps.toml ] || fail "/etc/peps/peps.toml is still there after the purge"
as_root test -e /etc/peps/wallet.keys || fail "the purge removed the key file (it must keep it)"
say "purged: program, configuration and data gone; key file kept, as documented"
say "Debian package: OK ($(($(date +%s) - STEP_START)) s)"
