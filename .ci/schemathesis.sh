#!/usr/bin/env bash
# The API says what it does: schemathesis against the OpenAPI document of a running `peps demo`,
# anonymous and with a worker's token. Fails on any server error (5xx) and on any response
# that breaks the documented schema, status codes or content types.
# Usage: .ci/schemathesis.sh [path/to/peps]   (default target/debug/peps; needs `schemathesis`
# on PATH, see .ci/python-requirements.txt). Bounded: about two minutes per pass at most.
set -euo pipefail
cd "$(dirname "$0")/.."
PEPS_BIN=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/debug/peps}")
WORK=$(mktemp -d)
PASSWORD="Schema-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"

(cd "$WORK" && PEPS_DEMO_PASSWORD="$PASSWORD" PEPS_SERVER__LISTEN="127.0.0.1:$PORT" \
  PEPS_LOG__LEVEL=warn exec "$PEPS_BIN" demo >"$WORK/demo.log" 2>&1) &
DEMO=$!
trap 'kill "$DEMO" 2>/dev/null || true; wait "$DEMO" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ready() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/ready", timeout=2)' "$URL" 2>/dev/null; }
for _ in $(seq 1 120); do
  ready && break
  kill -0 "$DEMO" 2>/dev/null || { cat "$WORK/demo.log"; exit 1; }
  sleep 0.5
done
ready || { echo "the demo did not start"; cat "$WORK/demo.log"; exit 1; }

TOKEN=$(python3 - "$URL" "$PASSWORD" <<'PY'
import json, sys, urllib.request
body = json.dumps({"email": "worker@demo.peps", "password": sys.argv[2]}).encode()
request = urllib.request.Request(sys.argv[1] + "/api/v1/auth/login", data=body,
                                 headers={"content-type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=10))["token"])
PY
)

run() {
  schemathesis run "$URL/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing --max-examples 8 --max-time 90 --seed 20261202 \
    --request-timeout 10 --workers 1 --no-shrink \
    --suppress-health-check all --warnings off "$@"
}
echo "--- anonymous"
run
echo "--- as worker@demo.peps"
# Not the operations that end the token's own session or change its password.
run -H "Authorization: Bearer $TOKEN" \
  --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/logout-all \
  --exclude-path /api/v1/me/password
