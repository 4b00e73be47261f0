# Sourced by the npm scripts that run the agent (`. scripts/dev-node.sh && …`): puts build/node-<version>/bin, the
# Node.js the product runs on (scripts/fetch-node.sh fetches it on first use), first on PATH, so that npm, vitest, the
# launchers and the bench run on it rather than on the machine's own Node.js.
PATH="$(bash scripts/fetch-node.sh):$PATH" && export PATH
