#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Builds the .deb from an already built build folder (default: build), checks it with lintian
# (no errors allowed), unpacks it into an empty folder and runs the unpacked server from a folder
# with no source tree: it must serve the browser library from its own resources. One "ok - ..."
# line per check passed (scripts/test.sh counts them); exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$(realpath "${1:-build}")

fail() { echo "not ok - $*" >&2; exit 1; }

rm -rf "$build/packages"
(cd "$build" && cpack -G DEB >/dev/null) || fail "cpack -G DEB in $build"
debs=("$build"/packages/openlifter-live_*.deb)
deb=${debs[0]}
[[ -f "$deb" ]] || fail "cpack made no openlifter-live_*.deb in $build/packages"
echo "ok - the .deb builds: ${deb#"$build"/}"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Section\|Priority\|Maintainer\):/  \1:/p'

# Errors fail; warnings and infos are printed for the record.
lintian --fail-on error --display-info "$deb" || fail "lintian reports errors in $deb"
echo "ok - lintian: no errors"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/root" "$work/empty" "$work/data" "$work/home"
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/openlifter-live-server usr/bin/openlifter-live usr/share/man/man1/openlifter-live.1.gz \
         usr/share/applications/org.openlifter.Live.desktop \
         usr/share/metainfo/org.openlifter.Live.metainfo.xml \
         usr/share/icons/hicolor/scalable/apps/org.openlifter.Live.svg \
         usr/share/icons/hicolor/16x16/apps/org.openlifter.Live.png \
         usr/share/icons/hicolor/512x512/apps/org.openlifter.Live.png \
         usr/share/doc/openlifter-live/copyright usr/share/man/man1/openlifter-live-server.1.gz; do
    [[ -e "$work/root/$f" ]] || fail "the .deb has no $f"
done
if find "$work/root" -path '*/web/*' -o -name '*.js' | grep -q .; then
    fail "the .deb carries browser files; they belong in the executables' resources"
fi
echo "ok - the .deb holds both executables, the desktop entry, metainfo, icons and docs"
desktop-file-validate "$work/root/usr/share/applications/org.openlifter.Live.desktop" \
    || fail "desktop-file-validate: org.openlifter.Live.desktop"
echo "ok - desktop-file-validate: org.openlifter.Live.desktop"
appstreamcli validate --no-net "$work/root/usr/share/metainfo/org.openlifter.Live.metainfo.xml" \
    || fail "appstreamcli validate: org.openlifter.Live.metainfo.xml"
echo "ok - appstreamcli validate: org.openlifter.Live.metainfo.xml"

# The unpacked server, from an empty working folder, with its own HOME: nothing of the source
# tree or of this machine's settings is within reach. Its first stdout line names the port.
exec {out}< <(cd "$work/empty" && HOME="$work/home" exec "$work/root/usr/bin/openlifter-live-server" \
    --port 0 --bind 127.0.0.1 --data-dir "$work/data" --scrypt-log2n 10 2>"$work/stderr")
server_pid=$!
line=
read -r -t 30 -u "$out" line || fail "the unpacked server printed no 'listening' line in 30 s: $(cat "$work/stderr")"
[[ "$line" =~ listening\ on\ 127\.0\.0\.1:([0-9]+)\  ]] || fail "unexpected first line: $line"
port=${BASH_REMATCH[1]}
echo "ok - the unpacked server starts from an empty folder (port $port)"

curl -fsS --max-time 30 -o "$work/lib.js" "http://127.0.0.1:$port/lib/openlifter-live.js" \
    || fail "GET /lib/openlifter-live.js from the unpacked server"
cmp -s "$work/lib.js" "$src/resources/web/lib/openlifter-live.js" \
    || fail "/lib/openlifter-live.js differs from resources/web/lib/openlifter-live.js"
echo "ok - GET /lib/openlifter-live.js: 200, identical to resources/web/lib/openlifter-live.js"

health=$(curl -fsS --max-time 30 "http://127.0.0.1:$port/health") || fail "GET /health"
[[ "$health" == *'"status"'* ]] || fail "/health answered: $health"
echo "ok - GET /health answers: $health"

kill -TERM "$server_pid"
# Bounded: a server that ignores SIGTERM fails the check instead of hanging the test command.
for _ in $(seq 1 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "the unpacked server still runs 30 s after SIGTERM"
status=0
wait "$server_pid" || status=$?
server_pid=
[[ $status -eq 0 ]] || fail "the unpacked server exited with $status after SIGTERM: $(cat "$work/stderr")"
echo "ok - the unpacked server stops cleanly on SIGTERM"
