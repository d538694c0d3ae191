#!/usr/bin/env bash
# Sets up Pavilion in .venv and starts one node with the demo expo, state in memory.
# Extra arguments go to `pavilion serve` (e.g. --port 9000, --no-demo, --redis-url URL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> starting Pavilion (Ctrl-C stops it)"
exec .venv/bin/pavilion serve "$@"
