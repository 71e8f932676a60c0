#!/usr/bin/env bash
# Fetch the OSU 0.18 um standard-cell library (Debian package qflow-tech-osu018) into
# DEST (default build/tech): osu018_stdcells.lib (area, NLDM timing, internal power) and
# osu018_stdcells.v (cell models for gate-level simulation).  Nothing is installed:
# `apt-get download` fetches the .deb into DEST and `dpkg -x` unpacks it there.
# Exits 0 when the files are present afterwards, 1 (with the reason) otherwise.
# One correction is applied to the liberty file: the package gives the LATCH cell an area of
# 0, while its LEF macro (osu018_stdcells.lef, same package) is 5.6 x 10 um like every other
# cell's area is width x 10 um; LATCH gets 56 um^2 (the clock-gating cells are built from it).
set -u
DEST="${1:-build/tech}"
LIB="$DEST/osu018/osu018_stdcells.lib"

fix_latch_area() {
  sed -i '/^cell (LATCH) {/{n;s/^area : 0;/area : 56;/}' "$LIB"
  grep -A1 '^cell (LATCH) {' "$LIB" | grep -q 'area : 56;' || {
    echo "quantrtl: could not set the LATCH area in $LIB" >&2
    exit 1
  }
}

if [ -f "$LIB" ] && [ -f "$DEST/osu018/osu018_stdcells.v" ]; then
  fix_latch_area
  exit 0
fi
for tool in apt-get dpkg; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "quantrtl: $tool is not available: fetch Debian's qflow-tech-osu018 by hand and" \
         "put osu018_stdcells.lib and osu018_stdcells.v into $DEST/osu018/" >&2
    exit 1
  fi
done
mkdir -p "$DEST/deb" "$DEST/osu018"
cd "$DEST/deb" || exit 1
echo "quantrtl: fetching qflow-tech-osu018 (apt-get download) into $DEST" >&2
if ! ls qflow-tech-osu018_*.deb >/dev/null 2>&1; then
  if ! apt-get download qflow-tech-osu018 >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq >/dev/null 2>&1
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo -n apt-get update -qq >/dev/null 2>&1
    fi
    apt-get download qflow-tech-osu018 >/dev/null 2>&1 || {
      echo "quantrtl: apt-get download qflow-tech-osu018 failed (no network or no Debian/Ubuntu" \
           "universe repository?)" >&2
      exit 1
    }
  fi
fi
rm -rf root && dpkg -x qflow-tech-osu018_*.deb root || exit 1
SRC="root/usr/share/qflow/tech/osu018"
cp "$SRC/osu018_stdcells.lib" "$SRC/osu018_stdcells.v" ../osu018/ || exit 1
cd - >/dev/null || exit 1
fix_latch_area
echo "quantrtl: osu018 standard cells in $DEST/osu018" >&2
exit 0
