#!/usr/bin/env bash
# Make Icarus Verilog available: install Debian's iverilog when it is missing and we may.
# Never fails: when it cannot install, it says why and the Icarus tests are skipped with
# that reason (CI sets QUANTRTL_REQUIRE_SIMS so that they fail instead).
set -u
if command -v iverilog >/dev/null 2>&1 && command -v vvp >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "quantrtl: Icarus Verilog is missing and apt-get is not available: install iverilog" \
       "by hand; the Icarus tests will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "quantrtl: Icarus Verilog is missing and installing it needs root" \
       "(sudo apt-get install iverilog); the Icarus tests will be skipped" >&2
  exit 0
fi
echo "quantrtl: installing Icarus Verilog (apt-get install iverilog)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq iverilog >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null 2>&1
  $SUDO apt-get install -y -qq iverilog >/dev/null 2>&1 \
    || echo "quantrtl: apt-get install iverilog failed; the Icarus tests will be skipped" >&2
fi
exit 0
