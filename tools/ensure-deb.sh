#!/usr/bin/env bash
# Make a Debian package's tool available: install PACKAGE with apt-get when PROBE is missing
# and we may.  Never fails: when it cannot install, it says why and what is skipped instead
# (CI sets QUANTRTL_REQUIRE_SIMS so that missing simulators fail the run there).
#   tools/ensure-deb.sh PACKAGE PROBE WHAT SKIPPED
# PROBE: a command name, or a file path (starting with /); WHAT: the tool's name in
# messages; SKIPPED: what is skipped without it.
set -u
package=$1 probe=$2 what=$3 skipped=$4
if [ "${probe#/}" != "$probe" ]; then
  [ -e "$probe" ] && exit 0
else
  command -v "$probe" >/dev/null 2>&1 && exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "quantrtl: $what is missing and apt-get is not available: install $package" \
       "by hand; $skipped will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "quantrtl: $what is missing and installing it needs root" \
       "(sudo apt-get install $package); $skipped will be skipped" >&2
  exit 0
fi
echo "quantrtl: installing $what (apt-get install $package)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq "$package" >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null 2>&1
  $SUDO apt-get install -y -qq "$package" >/dev/null 2>&1 \
    || echo "quantrtl: apt-get install $package failed; $skipped will be skipped" >&2
fi
exit 0
