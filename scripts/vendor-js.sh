#!/usr/bin/env bash
# Vendors the one browser library the pages use, the Socket.IO client, from the npm registry into
# web/static/vendor/ (no CDN at run time: the expo's networks may not reach one). Run it again to
# update; pin the version here so the committed file and this script agree.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${SOCKET_IO_CLIENT_VERSION:-4.8.4}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "socket.io-client@${VERSION}" >/dev/null && tar xzf socket.io-client-*.tgz)
mkdir -p web/static/vendor
cp "$work/package/dist/socket.io.esm.min.js" web/static/vendor/socket.io.esm.min.js
cp "$work/package/LICENSE" web/static/vendor/socket.io-client.LICENSE
echo "socket.io-client ${VERSION}" > web/static/vendor/VERSIONS
echo "vendored socket.io-client ${VERSION} into web/static/vendor/"
