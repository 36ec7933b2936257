#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Sets up and runs every test: the normal build's ctest suite (with the sync simulation over 2000
# seeds), the .deb (lintian, and its server run unpacked with no source tree), the browser tests,
# the same ctest suite built with AddressSanitizer + UndefinedBehaviorSanitizer (the simulation
# over 300 seeds there), and a short libFuzzer run of every fuzz target. Debian 12, as root. FUZZ_SECONDS (default 30) sets each fuzzer's run time.
#   --long   the soak: 100,000 simulation seeds and 100 server kills in the plain build (hours)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
log=$(mktemp -d)
long=0
[[ "${1:-}" == "--long" ]] && long=1

bash scripts/install-deps.sh --test

echo "== format (.clang-format)"
git ls-files 'server/*.cpp' 'server/*.h' 'client/*.cpp' 'client/*.h' 'app/*.cpp' 'app/*.h' 'ui/*.cpp' 'ui/*.h' 'tools/*.cpp' 'tools/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' \
    | xargs clang-format --dry-run --Werror

echo "== build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOLL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build -j"$jobs" --output-on-failure | tee "$log/plain.txt"
echo "== package (.deb from build/: lintian, then its server unpacked into an empty folder)"
bash scripts/check-deb.sh build | tee "$log/package.txt"
if (( long )); then
    echo "== soak: simulation over 100,000 seeds, 100 server kills under load"
    OLL_SIM_FIRST_SEED=1 OLL_SIM_SEEDS=100000 build/tests/sim/tst_simulation
    OLL_CRASH_KILLS=100 QTEST_FUNCTION_TIMEOUT=86400000 build/tests/integration/tst_crashloop
fi

echo "== web (client library and adapter in Node; end to end in Chromium against build/)"
OLL_SERVER_BIN="$PWD/build/app/openlifter-live-server" \
    node --test --test-reporter=tap tests/web/unit/*.test.js tests/web/e2e/*.test.js | tee "$log/web.txt"

echo "== build with ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOLL_SANITIZERS=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
OLL_SIM_SEEDS=300 ctest --test-dir build-asan -j"$jobs" --output-on-failure --timeout 1800 | tee "$log/asan.txt"

echo "== fuzzing"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash scripts/run-fuzz.sh | tee "$log/fuzz.txt"

# ctest exits non-zero on any failure (set -e and pipefail stop us there), so reaching this
# line means everything passed; count what ran.
count() { grep -oE 'tests failed out of [0-9]+' "$1" | grep -oE '[0-9]+$'; }
fuzzers=$(grep -cE '^fuzz_[a-z]+: .*, OK$' "$log/fuzz.txt" || true)
web=$(grep -oE '^# pass [0-9]+' "$log/web.txt" | grep -oE '[0-9]+$')
package=$(grep -c '^ok - ' "$log/package.txt")
total=$(( $(count "$log/plain.txt") + $(count "$log/asan.txt") + fuzzers + web + package ))
echo "all: ${total} passed, 0 failed"
