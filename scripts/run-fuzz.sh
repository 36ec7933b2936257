#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Builds the libFuzzer targets (tests/fuzz) with clang and runs each one for a while on a copy of
# its seed corpus. Exits non-zero if any fuzzer finds a crash, leak, timeout or out-of-memory, and
# prints where the reproducers are.
#
#   FUZZ_SECONDS=60        run time per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="message keypath journal"
#   FUZZ_BUILD_DIR=build-fuzz
#   FUZZ_BUILD_JOBS=       parallel compile jobs (default: ninja's choice)
#   FUZZ_KEEP=1            keep the temporary work directory (grown corpora, logs) on success too
#
# Nothing is written into the repository except the build directory: the fuzzers grow a copy of
# the seed corpus in a temporary directory and put artifacts there. To reproduce a finding, run
# the fuzzer binary on the artifact file (or add it to tests/fuzz/corpus/<target>/ so the
# fuzz_replay_<target> ctest replays it).
#
# Needs clang and libFuzzer (Debian 12: clang and libclang-rt-14-dev); installs them with apt-get
# if clang is missing (as root, or through sudo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-message keypath journal}"
BUILD_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
START=$(date +%s)

log() { printf '[run-fuzz] %s\n' "$*"; }

install_clang() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "clang is missing and this is not root; install clang and libclang-rt-14-dev first" >&2
            exit 2
        fi
    fi
    local pkgs=(clang libclang-rt-14-dev)
    log "installing ${pkgs[*]}"
    if ! ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"; then
        ${sudo[@]+"${sudo[@]}"} apt-get update
        ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"
    fi
}

if ! command -v clang >/dev/null 2>&1 || ! command -v clang++ >/dev/null 2>&1; then
    install_clang
fi

# --- build ----------------------------------------------------------------------------------
log "configuring $BUILD_DIR with $(clang++ --version | head -n1)"
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DOLL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build_targets=()
for t in $TARGETS; do
    build_targets+=("fuzz_$t")
done
log "building ${build_targets[*]}"
cmake --build "$BUILD_DIR" --target "${build_targets[@]}" ${FUZZ_BUILD_JOBS:+-j "$FUZZ_BUILD_JOBS"}
BUILT=$(date +%s)
log "build took $((BUILT - START)) s"

# --- run ------------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/oll-fuzz.XXXXXX")"
log "work directory: $WORK"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
for t in $TARGETS; do
    bin="$BUILD_DIR/tests/fuzz/fuzz_$t"
    seeds="tests/fuzz/corpus/$t"
    corpus="$WORK/corpus/$t"
    artifacts="$WORK/artifacts/$t"
    logfile="$WORK/fuzz_$t.log"
    mkdir -p "$corpus" "$artifacts"
    cp -R "$seeds/." "$corpus/"
    seed_count=$(find "$corpus" -type f | wc -l)

    log "fuzz_$t: ${SECONDS_PER_TARGET} s, $seed_count seeds (log: $logfile)"
    dict=()
    if [ -f "tests/fuzz/dict/$t.dict" ]; then
        dict=(-dict="tests/fuzz/dict/$t.dict")
    fi
    t0=$(date +%s)
    rc=0
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 ${dict[@]+"${dict[@]}"} "$corpus" >"$logfile" 2>&1 || rc=$?
    t1=$(date +%s)

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logfile" | tail -n1)
    final_count=$(find "$corpus" -type f | wc -l)
    findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
    slow=$(find "$artifacts" -type f -name 'slow-unit-*' | wc -l)

    status=OK
    if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
        status="FAILED (exit $rc)"
        failed+=("$t")
    fi
    line="fuzz_$t: ${execs:-?} executions in $((t1 - t0)) s (${rate:-?} exec/s), corpus $seed_count -> $final_count files, $status"
    if [ "$slow" -gt 0 ]; then
        line="$line, $slow slow unit(s) in $artifacts"
    fi
    summary+=("$line")
    log "$line"
    if [ "$status" != OK ]; then
        # The report: invariant message or sanitizer error, then the stack.
        awk '/^==== fuzz invariant|^==[0-9]+== ?ERROR|runtime error:/ {p = 1} p && n < 40 {print "    " $0; n++}' \
            "$logfile" | cut -c1-220
    fi
done

END=$(date +%s)
echo
echo "=== fuzz summary (build $((BUILT - START)) s, total $((END - START)) s) ==="
for line in "${summary[@]}"; do
    echo "$line"
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo
    echo "FINDINGS in: ${failed[*]}"
    echo "artifacts (reproduce with: $BUILD_DIR/tests/fuzz/fuzz_<target> <file>):"
    find "$WORK/artifacts" -type f | sort | sed 's/^/  /'
    echo "logs: $WORK/fuzz_*.log"
    exit 1
fi

if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    log "kept $WORK"
else
    rm -rf "$WORK"
fi
echo "no findings"
