#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Sets up, builds and starts OpenLifter Live, the desktop app with the live-meet server inside it
# (Debian 12, as root). Extra arguments go to the program started.
# With no usable display ($DISPLAY / $WAYLAND_DISPLAY unset, or nothing listening there) it says
# so and starts the headless server instead (scripts/start-server.sh does only that). Both keep
# meets in the same default data folder, ~/.local/share/OpenLifter Live/openlifter-live/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOLL_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target openlifter-live openlifter-live-server

# A display is usable when its socket is there: Wayland's in $XDG_RUNTIME_DIR, a local X
# server's in /tmp/.X11-unix, a remote one (ssh -X: "localhost:10.0") on TCP port 6000 + N.
display_usable() {
    if [[ -n "${WAYLAND_DISPLAY:-}" ]]; then
        local sock="$WAYLAND_DISPLAY"
        [[ "$sock" == /* ]] || sock="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/$sock"
        [[ -S "$sock" ]] && return 0
    fi
    if [[ -n "${DISPLAY:-}" && "$DISPLAY" == *:* ]]; then
        local host="${DISPLAY%:*}" num="${DISPLAY##*:}"
        num="${num%%.*}"
        [[ "$num" =~ ^[0-9]+$ ]] || return 1
        if [[ -z "$host" || "$host" == unix || "$host" == */* ]]; then
            [[ -S "/tmp/.X11-unix/X$num" ]] && return 0
        else
            (exec 3<>"/dev/tcp/$host/$((6000 + num))") 2>/dev/null && return 0
        fi
    fi
    return 1
}

if display_usable; then
    echo "Starting OpenLifter Live. The window shows the join addresses; closing it keeps the server"
    echo "running in the tray, Quit stops it. Everything already acknowledged is on disk."
    exec ./build-release/app/openlifter-live "$@"
fi
echo "No display here (DISPLAY='${DISPLAY:-}', WAYLAND_DISPLAY='${WAYLAND_DISPLAY:-}'): starting the"
echo "headless server instead, with the same data folder. It prints the address and port it listens"
echo "on (8420 unless --port says otherwise); check it with: curl http://localhost:PORT/health."
echo "Stop it with Ctrl-C: everything already acknowledged is on disk."
exec ./build-release/app/openlifter-live-server "$@"
