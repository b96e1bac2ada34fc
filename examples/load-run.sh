#!/bin/bash
# A load run of the demo (SQLite, release build), as docs/performance.md reports it:
#   cargo build --release -p peps-cli && bash examples/load-run.sh
# Needs oha (cargo install oha), curl and python3; port 8080 free. SECS sets each run's length.
set -u
BIN=${BIN:-$(pwd)/target/release/peps}
DIR=$(mktemp -d)
cd "$DIR"
PW='Perf-Password-2026'
PEPS_DEMO_PASSWORD=$PW PEPS_LOG__LEVEL=warn PEPS_SERVER__LISTEN=127.0.0.1:8080 $BIN demo > demo.log 2>&1 &
DEMO=$!
for i in $(seq 1 120); do curl -sf http://127.0.0.1:8080/health >/dev/null && break; sleep 1; done
login() { curl -s localhost:8080/api/v1/auth/login -H 'content-type: application/json' -d "{\"login\":\"$1\",\"password\":\"$PW\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'; }
PTOKEN=$(login person@demo.peps)
WTOKEN=$(login worker@demo.peps)
ME=$(curl -s -H "Authorization: Bearer $PTOKEN" localhost:8080/api/v1/me)
PID=$(echo "$ME" | python3 -c 'import sys,json;d=json.load(sys.stdin);print(d.get("id") or d["account"]["id"])')
PLAN=$(curl -s -H "Authorization: Bearer $PTOKEN" "localhost:8080/api/v1/persons/$PID/plans" | python3 -c 'import sys,json;d=json.load(sys.stdin);d=d if isinstance(d,list) else d.get("plans",d.get("items"));print(d[0]["id"])')
OFFER=$(curl -s "localhost:8080/api/v1/offers?q=alimentaire&limit=1" | python3 -c 'import sys,json;d=json.load(sys.stdin);print(d["results"][0]["id"] if "results" in d else d["hits"][0]["id"])')
echo "person=$PID plan=$PLAN offer=$OFFER"
run() { echo "== $1"; shift; oha -z ${SECS:-10}s -c 64 --no-tui "$@" | grep -E "Requests/sec|Slowest|Fastest|Average|50.00%|99.00%|\[200\]|\[[345][0-9][0-9]\]"; }
for round in 1 2; do
  echo "##### round $round"
  run "GET /api/v1/me (person)" -H "Authorization: Bearer $PTOKEN" http://127.0.0.1:8080/api/v1/me
  run "GET /api/v1/plans/{id}?lang=ar (person)" -H "Authorization: Bearer $PTOKEN" "http://127.0.0.1:8080/api/v1/plans/$PLAN?lang=ar"
  run "JSON search q=logement" "http://127.0.0.1:8080/api/v1/offers?q=logement"
  run "HTML search q=logement" "http://127.0.0.1:8080/fr/search?q=logement"
  run "JSON search uncached (random point)" --rand-regex-url 'http://127.0.0.1:8080/api/v1/offers[?]q=(logement|emploi|sante|formation)&lat=4[78][.][0-9]{4}&lon=3[.][0-9]{4}&radius_km=10'
  run "HTML search uncached (random point)" --rand-regex-url 'http://127.0.0.1:8080/fr/search[?]q=(logement|emploi|sante|formation)&near=4[78][.][0-9]{3},3[.][0-9]{3}&radius=10'
  run "JSON offer" "http://127.0.0.1:8080/api/v1/offers/$OFFER"
  run "HTML offer fr" "http://127.0.0.1:8080/fr/offers/$OFFER"
  run "HTML offer ar" "http://127.0.0.1:8080/ar/offers/$OFFER"
done
echo "== sizes (gzip as sent)"
for u in "/fr/search?q=logement" "/ar/search?q=logement" "/fr/search?q=&commune=Auxerre&radius=30" "/static/site.css" "/fr/offers/$OFFER" "/api/v1/offers?q=logement"; do
  printf "%s raw=%s gzip=%s\n" "$u" "$(curl -s "http://127.0.0.1:8080$u" | wc -c)" "$(curl -s -H 'accept-encoding: gzip' "http://127.0.0.1:8080$u" | wc -c)"
done
echo "== first byte (median of 20, single client)"
for u in "/api/v1/offers?q=logement&x=1" "/fr/search?q=logement&x=1"; do
  for i in $(seq 1 20); do curl -s -o /dev/null -w "%{time_starttransfer}\n" "http://127.0.0.1:8080$u"; done | sort -n | sed -n 10p | xargs echo "$u ttfb(s)"
done
kill $DEMO; wait $DEMO 2>/dev/null
rm -rf "$DIR"
