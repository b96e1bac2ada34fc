#!/usr/bin/env bash
# CI step "Crates package": `cargo package` for every publishable crate of the workspace, then
# checks that each .crate holds what its sources compile in (include_str!/include_bytes!, the
# rust-i18n locales) and that nothing is read from outside the crate's folder, and that each
# manifest carries the metadata crates.io needs.
#
#   packaging/check-crates.sh            what CI runs: --no-verify (10 to 20 s)
#   PEPS_VERIFY_CRATES=1 packaging/check-crates.sh
#                                        also builds each .crate on its own, as crates.io users
#                                        would (a full build of the tree: minutes; before a
#                                        release)
#   packaging/check-crates.sh --publish  also requires `repository` (no placeholder): run it
#                                        before `cargo publish` (docs/packaging.md)
set -euo pipefail
cd "$(dirname "$0")/.."

PUBLISH=no
[ "${1:-}" = --publish ] && PUBLISH=yes

say() { printf '[crates] %s\n' "$*"; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
METADATA=$WORK/metadata.json
cargo metadata --no-deps --format-version 1 >"$METADATA"
# name<TAB>folder<TAB>publishable, one crate a line
python3 -c 'import json, os, sys
for p in json.load(open(sys.argv[1]))["packages"]:
    print(p["name"], os.path.dirname(p["manifest_path"]), "no" if p.get("publish") == [] else "yes", sep="\t")' "$METADATA" >"$WORK/crates.tsv"
CRATES=$(awk -F'\t' '$3 == "yes" {print $1}' "$WORK/crates.tsv" | tr '\n' ' ')
say "publishable crates: $CRATES"

# ---- manifests ---------------------------------------------------------------------------------
PUBLISH=$PUBLISH METADATA="$METADATA" python3 - <<'EOF'
import json, os, re, sys
meta = json.load(open(os.environ["METADATA"]))
names = {p["name"] for p in meta["packages"]}
problems = []
for p in meta["packages"]:
    if p.get("publish") == []:
        continue
    for field in ("description", "license", "readme", "rust_version", "keywords", "categories"):
        if not p.get(field):
            problems.append(f"{p['name']}: no {field}")
    if len(p.get("keywords") or []) > 5:
        problems.append(f"{p['name']}: more than 5 keywords")
    for d in p["dependencies"]:
        # Dev-dependencies without a version are left out of the .crate; the others must say
        # which version they need.
        if d["name"] in names and d.get("kind") != "dev" and d["req"] == "*":
            problems.append(f"{p['name']}: dependency {d['name']} has a path but no version")
    repo = p.get("repository") or ""
    if re.search(r"(^|[./])(example|invalid|localhost|test)([./:]|$)", repo):
        problems.append(f"{p['name']}: repository {repo} is a placeholder")
    if os.environ["PUBLISH"] == "yes" and not repo:
        problems.append(f"{p['name']}: no repository; set workspace.package.repository (docs/packaging.md)")
for line in problems:
    print("[crates] " + line, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
say "manifests: metadata complete, every path dependency versioned"
if [ "$PUBLISH" = no ]; then
  say "note: no repository set, fine for CI; publishing needs it (packaging/check-crates.sh --publish)"
fi

# ---- the .crate files --------------------------------------------------------------------------
EXCLUDES=()
# shellcheck disable=SC2013 # crate names have no spaces
for name in $(awk -F'\t' '$3 == "no" {print $1}' "$WORK/crates.tsv"); do
  EXCLUDES+=(--exclude "$name")
done
VERIFY=(--no-verify)
[ "${PEPS_VERIFY_CRATES:-0}" = 1 ] && VERIFY=()
ALLOW_DIRTY=()
[ -n "$(git status --porcelain 2>/dev/null)" ] && ALLOW_DIRTY=(--allow-dirty)
start=$(date +%s)
# The "ignoring test/benchmark" warnings are expected: tests and benches stay in the repository.
cargo package --quiet --workspace "${EXCLUDES[@]}" "${VERIFY[@]}" "${ALLOW_DIRTY[@]}" 2>&1 |
  grep -v -e '^warning: ignoring \(test\|benchmark\|example\)' \
    -e 'manifest has no documentation, homepage or repository' \
    -e 'see https://doc.rust-lang.org/cargo/reference/manifest.html#package-metadata' \
    -e '^ *|$' -e '^ *= note:' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { say "cargo package failed" >&2; exit 1; }
say "cargo package ${VERIFY[*]:-(verified)}: $(($(date +%s) - start)) s"

# ---- what each .crate must hold ----------------------------------------------------------------
for crate in $CRATES; do
  dir=$(awk -F'\t' -v c="$crate" '$1 == c {print $2}' "$WORK/crates.tsv")
  cargo package --quiet --list -p "$crate" "${ALLOW_DIRTY[@]}" 2>/dev/null >"$WORK/$crate.list"
  CRATE=$crate DIR=$dir LIST="$WORK/$crate.list" python3 - <<'EOF'
import os, re, sys
crate, root = os.environ["CRATE"], os.path.realpath(os.environ["DIR"])
listed = set(open(os.environ["LIST"]).read().split())
problems = []
for required in ("Cargo.toml", "README.md", "LICENSE"):
    if required not in listed:
        problems.append(f"{required} is not in the .crate")
# include_str!("…") and include_bytes!("…"), also as concat!("prefix", $code, ".yml") in a
# macro: the literal (prefix) must lead to listed files inside the crate. rust-i18n's
# i18n!("locales") is relative to the crate's folder.
include = re.compile(r'include_(?:str|bytes)!\(\s*(?:concat!\(\s*)?"([^"]+)"')
i18n = re.compile(r'i18n!\(\s*"([^"]+)"')
for base, _, files in os.walk(os.path.join(root, "src")):
    for name in files:
        if not name.endswith(".rs"):
            continue
        path = os.path.join(base, name)
        text = open(path, encoding="utf-8").read()
        targets = [os.path.join(base, m) for m in include.findall(text)]
        targets += [os.path.join(root, m) for m in i18n.findall(text)]
        for target in targets:
            rel = os.path.relpath(os.path.normpath(target), root)
            where = os.path.relpath(path, root)
            if rel.startswith(".."):
                problems.append(f"{where} reads {rel}, outside the crate: it cannot be packaged")
            elif not any(f == rel or f.startswith(rel + "/") for f in listed):
                problems.append(f"{where} compiles in {rel}, which is not in the .crate")
for line in problems:
    print(f"[crates] {crate}: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
  say "$crate: $(wc -l <"$WORK/$crate.list") files, everything it compiles in included"
done
say "Crates package: OK"
