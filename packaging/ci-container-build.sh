#!/usr/bin/env bash
# CI step "Container image": builds packaging/Containerfile when a working podman or docker is
# here, and says why not otherwise. The build is a release build of the whole tree (several
# minutes on 2 cores, on top of CI's ~25): PEPS_SKIP_CONTAINER=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[container] %s\n' "$*"; }

if [ "${PEPS_SKIP_CONTAINER:-0}" = 1 ]; then
  say "PEPS_SKIP_CONTAINER=1: container build skipped"
  exit 0
fi
TOOL=""
for candidate in podman docker; do
  # A client without its daemon (docker) or without user namespaces (podman) does not count.
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
    TOOL=$candidate
    break
  fi
done
if [ -z "$TOOL" ]; then
  say "no container tool: container build skipped (no working podman or docker)"
  exit 0
fi
# The base images come from Docker Hub; a machine that cannot reach it cannot build.
while read -r image; do
  if ! "$TOOL" pull -q "$image" >/dev/null 2>&1; then
    say "cannot pull $image with $TOOL: container build skipped (registry unreachable?)"
    exit 0
  fi
done < <(sed -n 's/^FROM \([^ ]*\).*/\1/p' packaging/Containerfile)
# podman: the docker format keeps HEALTHCHECK; chroot isolation runs the RUN steps where crun
# cannot make containers (no cgroup controllers, as on CI's own machine).
FORMAT=()
[ "$TOOL" = podman ] && FORMAT=(--format docker --isolation chroot)
start=$(date +%s)
"$TOOL" build "${FORMAT[@]}" -f packaging/Containerfile -t peps:ci .
say "built peps:ci with $TOOL in $(($(date +%s) - start)) s"
"$TOOL" run --rm peps:ci --version
"$TOOL" image rm peps:ci >/dev/null
say "Container image: OK"
