#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Takes docs/screenshots/main-window.png: the desktop app under Xvfb, on a fresh data folder and
# fresh settings, with a saved OpenLifter meet loaded by tools/meet-seeder and three clients
# attached (Desk and Platform A updating, a display), making a small edit every few seconds.
#
# Usage: scripts/screenshot-app.sh [--build-dir DIR] [--no-build] [--meet FILE.openlifter | --no-meet] [--out FILE.png]
#   --build-dir  where the app and the seeder are built (default: build)
#   --no-build   use the binaries already in the build folder
#   --meet       the meet to load (default: ../shared/fixtures/meets/midmeet-kg.openlifter,
#                or tests/data/meets/midmeet-kg.openlifter when ../shared is absent)
#   --no-meet    load nothing: the first launch, as a director sees it before any meet is live
#   --out        where the PNG goes (default: docs/screenshots/main-window.png)
# Needs xvfb-run, ImageMagick's import and curl (scripts/install-deps.sh installs them); with
# xwininfo (x11-utils) it also waits for the window to be mapped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BUILD_DIR=build
BUILD=1
MEET=""
NO_MEET=0
OUT=docs/screenshots/main-window.png
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --meet) MEET=$2; shift 2 ;;
    --no-meet) NO_MEET=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "screenshot-app.sh: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
    esac
done

die() { echo "screenshot-app.sh: $*" >&2; exit 1; }

if [ -z "$MEET" ]; then
    if [ -d ../shared/fixtures/meets ]; then
        MEET=../shared/fixtures/meets/midmeet-kg.openlifter
    else
        MEET=tests/data/meets/midmeet-kg.openlifter
    fi
fi
if [ "$NO_MEET" = 0 ]; then
    [ -r "$MEET" ] || die "cannot read the meet file '$MEET'"
    MEET=$(realpath "$MEET")
fi
mkdir -p "$(dirname "$OUT")"
OUT=$(realpath -m "$OUT")
for tool in xvfb-run import curl; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install xvfb xauth imagemagick curl)"
done

APP=$BUILD_DIR/app/openlifter-live
SEEDER=$BUILD_DIR/tools/meet-seeder/oll-meet-seeder
if [ "${OLL_SCREENSHOT_INNER:-}" != 1 ]; then
    if [ "$BUILD" = 1 ]; then
        if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
            cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        fi
        cmake --build "$BUILD_DIR" -j"$(nproc)" --target openlifter-live oll-meet-seeder
    fi
    [ -x "$APP" ] || die "$APP is not built (run without --no-build)"
    [ -x "$SEEDER" ] || die "$SEEDER is not built (run without --no-build)"
    # Everything below runs inside one X server, so that import sees the app's window.
    export OLL_SCREENSHOT_INNER=1
    if [ "$NO_MEET" = 1 ]; then
        exec xvfb-run -a -s '-screen 0 1600x1000x24' "$0" --build-dir "$BUILD_DIR" --no-build --no-meet --out "$OUT"
    fi
    exec xvfb-run -a -s '-screen 0 1600x1000x24' "$0" --build-dir "$BUILD_DIR" --no-build --meet "$MEET" --out "$OUT"
fi

# --- inside Xvfb ---------------------------------------------------------------------------
WORK=$(mktemp -d)
APP_PID=""
SEEDER_PID=""
cleanup() {
    [ -n "$SEEDER_PID" ] && kill -TERM "$SEEDER_PID" 2>/dev/null && wait "$SEEDER_PID" 2>/dev/null
    [ -n "$APP_PID" ] && kill -TERM "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# Fresh settings and data: what a director sees on the first launch, and nothing of theirs touched.
export XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data XDG_CACHE_HOME=$WORK/cache
mkdir -p "$WORK/meets" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# A free port: a random one nobody listens on (the app says so clearly if it was taken meanwhile).
PORT=""
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || die "found no free port"
HEALTH=http://127.0.0.1:$PORT/health

# -qwindowgeometry: Xvfb has no window manager to size the window; make it fill the screen.
"$APP" --port "$PORT" --data-dir "$WORK/meets" --settings "$WORK/settings.ini" -qwindowgeometry 1600x1000+0+0 >"$WORK/app.log" 2>&1 &
APP_PID=$!

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ -n "$APP_PID" ] && ! kill -0 "$APP_PID" 2>/dev/null; then
            cat "$WORK/app.log" >&2
            die "the app exited while waiting for $what"
        fi
        [ $SECONDS -lt $deadline ] || { cat "$WORK/app.log" >&2; die "timed out after ${seconds}s waiting for $what"; }
        sleep 0.2
    done
}
health_is() { curl -sf --max-time 2 "$HEALTH" | grep -q "$1"; }
wait_for 60 "the app's server on port $PORT" health_is '"status":"ok"'

if [ "$NO_MEET" = 0 ]; then
    "$SEEDER" --url "http://127.0.0.1:$PORT" --edit-every 3 "$MEET" >"$WORK/seeder.log" 2>&1 &
    SEEDER_PID=$!
    seeder_ready() {
        kill -0 "$SEEDER_PID" 2>/dev/null || { cat "$WORK/seeder.log" >&2; die "the seeder exited"; }
        grep -q '^ready:' "$WORK/seeder.log"
    }
    wait_for 90 "the seeder to load the meet" seeder_ready
    grep -E '^(seeding|meet-id-display|ready)' "$WORK/seeder.log"

    # The window shows the meet once its server reports it with three connections.
    meet_attached() { health_is '"connections":3[,}]' && health_is '"meets":1[,}]'; }
    wait_for 30 "one meet and three connections in /health" meet_attached
fi
if command -v xwininfo >/dev/null; then
    window_mapped() { xwininfo -root -tree | grep -q '"OpenLifter Live'; }
    wait_for 30 "the app's window" window_mapped
fi
# Let the window take two snapshots (ServerHost publishes every 250 ms) and one live edit.
sleep 4
import -window root "$OUT"
echo "screenshot: $OUT ($(identify -format '%wx%h' "$OUT" 2>/dev/null || echo '?'))"

# Exit cleanly: clients first, then the app (nothing is connected, so it does not ask).
if [ -n "$SEEDER_PID" ]; then
    kill -TERM "$SEEDER_PID"
    for _ in $(seq 1 100); do kill -0 "$SEEDER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SEEDER_PID" 2>/dev/null && die "the seeder still runs 10 s after SIGTERM"
    wait "$SEEDER_PID" || die "the seeder did not stop cleanly"
    SEEDER_PID=""
fi
kill -TERM "$APP_PID"
for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$APP_PID" 2>/dev/null; then
    cat "$WORK/app.log" >&2
    die "the app did not exit within 10 s of SIGTERM"
fi
wait "$APP_PID" || die "the app exited with status $? (log above)"
APP_PID=""
