#!/usr/bin/env bash
# From-source test (issue 5): an installed convnode with its prebuilds removed (as on a platform
# we ship none for) must build a working addon each documented way:
#   A. `npm rebuild convnode`                     the package's install script (CMake when present)
#   B. `npm rebuild convnode`, no cmake on PATH   the install script's node-gyp route
#   C. `npx cmake-js rebuild` in the package      cmake-js over CMakeLists.txt
#   D. `node-gyp rebuild` in the package          binding.gyp as shipped
#   E. `npm rebuild convnode` where a prebuild is present but does not load
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
cp "$pkg/prebuilds/linux-arm64/convnode.glibc.node" "$work/arm64.node"
rm -rf "$pkg/prebuilds"
cp "$repo/scripts/test-install-probe.mjs" "$project/probe.mjs"

# A PATH with everything except cmake, for the node-gyp route of the install script. A ccache
# masquerade folder (CI puts /usr/lib/ccache first) stays in front as it is: its g++ linked into
# the farm would find no real g++ behind it (ccache skips links to itself) and every compile fails.
no_cmake="$work/no-cmake-bin"
masquerade=""
mkdir -p "$no_cmake"
for dir in $(tr ':' ' ' <<<"$PATH"); do
  [[ -d "$dir" ]] || continue
  if [[ -e "$dir/g++" && "$(readlink -f "$dir/g++")" == */ccache ]]; then
    masquerade+="$dir:"
    continue
  fi
  for tool in "$dir"/*; do
    name="$(basename "$tool")"
    [[ "$name" == cmake* || -e "$no_cmake/$name" ]] && continue
    ln -s "$tool" "$no_cmake/$name" 2>/dev/null || true
  done
done

failures=()
fail_case() {
  printf 'test-install-from-source: FAIL: %s\n' "$*" >&2
  failures+=("$*")
}

# Runs one way of building; every case runs even when an earlier one failed.
run_case() { # $1 = label, $2 = short name, rest = command
  local label="$1" name="$2"
  shift 2
  rm -rf "$pkg/build"
  log "$label"
  local start=$SECONDS
  if ! "$@" >"$work/$name.log" 2>&1; then
    tail -25 "$work/$name.log" >&2
    fail_case "$label: the command failed"
    return 1
  fi
  log "  finished in $((SECONDS - start)) s"
  if [[ ! -f "$pkg/build/Release/convnode.node" ]]; then
    fail_case "$label: no build/Release/convnode.node afterwards ($(tail -3 "$work/$name.log" | tr '\n' ' '))"
    return 1
  fi
  if ! env -u CONVNODE_BACKEND node probe.mjs native node_modules/convnode/build/Release/convnode.node >"$work/probe-$name.out" 2>&1; then
    cat "$work/probe-$name.out" >&2
    fail_case "$label: the built addon does not run"
    return 1
  fi
  log "  ok: $(cat "$work/probe-$name.out")"
}
expect_in_log() { # $1 = short name, $2 = pattern, $3 = failure message
  grep -q "$2" "$work/$1.log" || fail_case "$3"
}

run_case "A. npm rebuild convnode (install script, CMake)" npm-rebuild \
  npm rebuild convnode --foreground-scripts &&
  expect_in_log npm-rebuild "convnode: cmake " "A: the install script did not build with CMake"

run_case "B. npm rebuild convnode without cmake (install script, node-gyp)" npm-rebuild-gyp \
  env PATH="$masquerade$no_cmake" npm rebuild convnode --foreground-scripts &&
  expect_in_log npm-rebuild-gyp "building with node-gyp" "B: the install script did not take its node-gyp route"

cmake_js="$repo/node_modules/.bin/cmake-js"
[[ -x "$cmake_js" ]] || die "cmake-js is not installed in $repo/node_modules (npm ci first)"
run_case "C. npx cmake-js rebuild" cmake-js \
  bash -c "cd '$pkg' && '$cmake_js' rebuild --log-level warn" || true

node_gyp="$repo/node_modules/.bin/node-gyp"
[[ -x "$node_gyp" ]] || die "node-gyp is not installed in $repo/node_modules (npm ci first)"
run_case "D. node-gyp rebuild (binding.gyp)" node-gyp \
  bash -c "cd '$pkg' && '$node_gyp' rebuild -j 2" || true

# E. A prebuild that is there but cannot load on this machine (as on a system whose glibc is older
# than the build machine's; simulated with the arm64 binary in the x64 slot). `npm rebuild
# convnode`, which the fallback warning recommends, must then build from source.
mkdir -p "$pkg/prebuilds/linux-x64"
cp "$work/arm64.node" "$pkg/prebuilds/linux-x64/convnode.glibc.node"
run_case "E. npm rebuild convnode with a prebuild that does not load here" npm-rebuild-unloadable \
  npm rebuild convnode --foreground-scripts || true
rm -rf "$pkg/prebuilds"

if ((${#failures[@]})); then
  printf 'test-install-from-source: %d case(s) failed:\n' "${#failures[@]}" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
log "ok"
