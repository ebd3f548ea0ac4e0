#!/usr/bin/env bash
# From-source test (issue 5): an installed convnode with its prebuilds removed (as on a platform
# we ship none for) must build a working addon each documented way:
#   A. `npm rebuild convnode`                     the package's install script (CMake when present)
#   B. `npm rebuild convnode`, no cmake on PATH   the install script's node-gyp route
#   C. `npx cmake-js rebuild` in the package      cmake-js over CMakeLists.txt
#   D. `node-gyp rebuild` in the package          binding.gyp as shipped
# After each, convnode must pick the native backend, load build/Release/convnode.node and give
# the lecture's Sobel numbers (scripts/test-install-probe.mjs). Runs in a temporary directory;
# never touches the repository's own build/.
# Usage: bash scripts/test-install-from-source.sh [convnode-x.y.z.tgz]   (KEEP=1 keeps the temp dir)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/convnode-from-source.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  trap 'echo "test-install-from-source: kept $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
log() { printf 'test-install-from-source: %s\n' "$*"; }
die() {
  printf 'test-install-from-source: FAIL: %s\n' "$*" >&2
  exit 1
}

if [[ $# -ge 1 ]]; then
  tarball="$(readlink -f "$1")"
else
  (cd "$repo" && npm pack --pack-destination "$work" --loglevel=error >"$work/pack.log" 2>&1) || {
    cat "$work/pack.log" >&2
    die "npm pack failed"
  }
  tarballs=("$work"/convnode-*.tgz)
  tarball="${tarballs[0]}"
fi
[[ -f "$tarball" ]] || die "no tarball at $tarball"

# Node's own headers where the distribution ships them (Debian: /usr/include/node), so no build
# tool downloads them.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [[ -f "$node_prefix/include/node/node_api.h" ]]; then export npm_config_nodedir="$node_prefix"; fi

project="$work/project"
mkdir -p "$project"
cd "$project"
npm init -y >/dev/null
npm install --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" >"$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  die "npm install of the tarball failed"
}
pkg="$project/node_modules/convnode"
rm -rf "$pkg/prebuilds"
cp "$repo/scripts/test-install-probe.mjs" "$project/probe.mjs"

# A PATH with everything except cmake, for the node-gyp route of the install script.
no_cmake="$work/no-cmake-bin"
mkdir -p "$no_cmake"
for dir in $(tr ':' ' ' <<<"$PATH"); do
  [[ -d "$dir" ]] || continue
  for tool in "$dir"/*; do
    name="$(basename "$tool")"
    [[ "$name" == cmake* || -e "$no_cmake/$name" ]] && continue
    ln -s "$tool" "$no_cmake/$name" 2>/dev/null || true
  done
done

expect_native_build() { # $1 = case name
  [[ -f "$pkg/build/Release/convnode.node" ]] || die "$1: no build/Release/convnode.node afterwards"
  env -u CONVNODE_BACKEND node probe.mjs native node_modules/convnode/build/Release/convnode.node >"$work/probe-$2.out" 2>&1 || {
    cat "$work/probe-$2.out" >&2
    die "$1: the built addon does not run"
  }
  log "  ok: $(cat "$work/probe-$2.out")"
}

run_case() { # $1 = label, $2 = short name, rest = command (run in $project unless it cd's)
  local label="$1" name="$2"
  shift 2
  rm -rf "$pkg/build"
  log "$label"
  local start=$SECONDS
  if ! "$@" >"$work/$name.log" 2>&1; then
    tail -25 "$work/$name.log" >&2
    die "$label failed"
  fi
  log "  built in $((SECONDS - start)) s"
  expect_native_build "$label" "$name"
}

run_case "A. npm rebuild convnode (install script, CMake)" npm-rebuild \
  npm rebuild convnode --foreground-scripts
grep -q "native addon built" "$work/npm-rebuild.log" || die "A: the install script did not report a build: $(tail -5 "$work/npm-rebuild.log")"
grep -q "convnode: cmake " "$work/npm-rebuild.log" || die "A: the install script did not build with CMake"

run_case "B. npm rebuild convnode without cmake (install script, node-gyp)" npm-rebuild-gyp \
  env PATH="$no_cmake" npm rebuild convnode --foreground-scripts
grep -q "native addon built" "$work/npm-rebuild-gyp.log" || die "B: the install script did not report a build: $(tail -5 "$work/npm-rebuild-gyp.log")"
grep -q "building with node-gyp" "$work/npm-rebuild-gyp.log" || die "B: the install script did not take its node-gyp route"

cmake_js="$repo/node_modules/.bin/cmake-js"
[[ -x "$cmake_js" ]] || die "cmake-js is not installed in $repo/node_modules (npm ci first)"
run_case "C. npx cmake-js rebuild" cmake-js \
  bash -c "cd '$pkg' && '$cmake_js' rebuild --log-level warn"

node_gyp="$repo/node_modules/.bin/node-gyp"
[[ -x "$node_gyp" ]] || die "node-gyp is not installed in $repo/node_modules (npm ci first)"
run_case "D. node-gyp rebuild (binding.gyp)" node-gyp \
  bash -c "cd '$pkg' && '$node_gyp' rebuild -j 2"

log "ok"
