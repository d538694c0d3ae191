#!/usr/bin/env bash
# Shared set-up for run.sh and test.sh: a virtualenv in .venv with Pavilion installed.
# Usage: scripts/setup.sh [EXTRA]   (EXTRA=dev installs the test tools too)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Pavilion needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating the virtualenv in .venv"
  "$python" -m venv .venv
fi
echo "==> installing Pavilion${extra:+ with [$extra]} into .venv (pip prints each package)"
.venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
.venv/bin/python -m pip install --disable-pip-version-check --progress-bar off \
  -e ".${extra:+[$extra]}" | grep -vE '^(Requirement already satisfied|  )' || true
.venv/bin/python -c 'import web, rooms, streaming, signaling, config' \
  || { echo "installation failed: see the pip output above" >&2; exit 1; }
.venv/bin/python -c 'import streaming._fastsend' 2>/dev/null \
  || echo "note: streaming._fastsend was not built (no C compiler or Python headers?):" \
          "the fan-out sends with sendto instead of sendmmsg (docs/media.md)" >&2
.venv/bin/python -c 'import streaming._srtpgcm' 2>/dev/null \
  || echo "note: streaming._srtpgcm was not built (no OpenSSL headers: Debian's libssl-dev?):" \
          "viewers' RTP is protected by libsrtp (docs/media.md)" >&2
