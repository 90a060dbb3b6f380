#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) into a cache
# folder, apart from the project's dependencies: its native modules need system headers, so it
# must never be in package.json. The VS Code workbench test (test/e2e/vscode.test.ts) uses it.
#
#   scripts/install-code-server.sh        install (or reuse the cached install); prints its folder
#
# Folder: $AIOS_CODE_SERVER_DIR, default ${XDG_CACHE_HOME:-~/.cache}/aios/code-server-4.100.3.
# Needs Debian's libkrb5-dev (kerberos compiles against gssapi.h) and ripgrep (@vscode/ripgrep
# would download rg from GitHub; it is given Debian's instead). Works with only the npm registry.
set -euo pipefail

VERSION=4.100.3
RIPGREP_PKG=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
DIR="${AIOS_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aios/code-server-$VERSION}"
ENTRY="$DIR/node_modules/code-server/out/node/entry.js"

if [ -f "$DIR/.complete" ] && [ -f "$ENTRY" ]; then
  echo "code-server $VERSION: cached in $DIR"
  exit 0
fi

missing=()
command -v rg >/dev/null || missing+=(ripgrep)
[ -f /usr/include/gssapi/gssapi.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "code-server $VERSION needs Debian packages first: apt-get install ${missing[*]}" >&2
  exit 1
fi

# Build beside the final folder and move it in at the end: a half-done install is never "cached".
STAGE="$DIR.partial.$$"
trap 'rm -rf "$STAGE"' EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE/tmp/vscode-ripgrep-cache-$RIPGREP_PKG"
tar -czf "$STAGE/tmp/vscode-ripgrep-cache-$RIPGREP_PKG/$RIPGREP_ASSET" -C "$(dirname "$(command -v rg)")" rg
echo '{ "private": true }' >"$STAGE/package.json"

echo "code-server $VERSION: installing into $DIR (about a minute)"
(
  cd "$STAGE"
  TMPDIR="$STAGE/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
    npm install "code-server@$VERSION" --foreground-scripts --no-audit --no-fund --loglevel=error >"$STAGE/install.log" 2>&1 ||
    {
      tail -n 40 "$STAGE/install.log" >&2
      exit 1
    }
)
[ -f "$STAGE/node_modules/code-server/out/node/entry.js" ] || {
  echo "code-server $VERSION: installed, but out/node/entry.js is missing" >&2
  exit 1
}
rm -rf "$STAGE/tmp"
touch "$STAGE/.complete"
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
mv "$STAGE" "$DIR"
trap - EXIT
echo "code-server $VERSION: installed in $DIR"
