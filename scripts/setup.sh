#!/usr/bin/env bash
# A fresh checkout's first step (README): fetches the Node.js the product runs on into build/ (scripts/fetch-node.sh),
# whatever Node.js the machine has, and installs the dependencies with it first on PATH, so npm sees a supported
# Node.js. The npm scripts (demo, test, bench) put it first on PATH again themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/fetch-node.sh -- npm ci --no-audit --no-fund
