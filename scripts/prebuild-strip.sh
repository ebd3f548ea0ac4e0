#!/bin/sh
# prebuildify's strip program (--strip-bin): it strips build/Release/<name>.node in place before
# moving it to prebuilds/. Keep the unstripped file first, so the ISA check can read its symbols,
# then strip with the target's own strip (the host strip does not know aarch64).
set -eu
: "${CONVNODE_UNSTRIPPED_COPY:?set by scripts/prebuild.mjs}"
: "${CONVNODE_STRIP:?set by scripts/prebuild.mjs}"
cp "$1" "$CONVNODE_UNSTRIPPED_COPY"
exec "$CONVNODE_STRIP" "$@"
