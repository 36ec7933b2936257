#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Sets up, builds and starts the OpenLifter Live server on this machine (Debian 12, as root).
# Extra arguments go to the server, e.g.: scripts/start-server.sh --port 9000 --data-dir /srv/meets
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOLL_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target openlifter-live-server

echo "Starting the server. It prints the address and port it listens on (8420 unless --port says"
echo "otherwise); check it with: curl http://localhost:PORT/health. Stop it with Ctrl-C: everything"
echo "already acknowledged is on disk."
exec ./build-release/app/openlifter-live-server "$@"
