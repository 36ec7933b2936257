#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Draws the PNG sizes of the application icon from its SVG. Run it after changing the SVG and
# commit the PNGs: the build and the package use them as they are and need no SVG renderer.
# Needs rsvg-convert (Debian: librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")/../resources/icons/hicolor"
svg=scalable/apps/org.openlifter.Live.svg
for n in 16 32 48 64 128 256 512; do
    mkdir -p "${n}x${n}/apps"
    rsvg-convert -w "$n" -h "$n" "$svg" -o "${n}x${n}/apps/org.openlifter.Live.png"
done
