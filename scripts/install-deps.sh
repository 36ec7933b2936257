#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Installs what building (and, with --test, testing) OpenLifter Live needs on Debian 12.
# Run as root. Every package is explained in README.md, "Dependencies".
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config
            qt6-base-dev qt6-websockets-dev qt6-httpserver-dev libssl-dev
            libqrencode-dev libgl-dev qt6-qpa-plugins)
# Tests: fuzzing, formatting, the GUI under a virtual display with screenshots, the .deb's checks.
test_pkgs=(clang libclang-rt-14-dev clang-format
           xvfb xauth imagemagick fonts-dejavu-core lintian dpkg-dev file
           appstream desktop-file-utils curl x11-utils)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
    want+=("${test_pkgs[@]}")
    # Browser tests (tests/web): Debian's Chromium; Node and npm from Debian unless already there.
    want+=(chromium)
    command -v node >/dev/null || want+=(nodejs)
    command -v npm >/dev/null || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
    # playwright-core as pinned in package-lock.json; it downloads no browser (Debian's is used).
    (cd "$(dirname "$0")/.." && npm ci --no-audit --no-fund --loglevel=error)
fi
