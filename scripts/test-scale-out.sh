#!/usr/bin/env bash
# Two `convnode serve` replicas behind HAProxy (Debian's haproxy package), one SIGKILLed and
# restarted mid-load: every request must be answered correctly. See scripts/test-scale-out.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v haproxy >/dev/null || { echo "test-scale-out: needs haproxy (apt-get install haproxy)" >&2; exit 1; }
[ -f dist/serve/index.js ] || npm run build
node scripts/test-scale-out.mjs
