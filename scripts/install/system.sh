#!/usr/bin/env bash
# Debian packages the mesh runs on. Idempotent: installs only what is missing.
set -euo pipefail

# The model servers' packages are here too, so apt runs once, before the
# steps that install in parallel. chromium (headless) checks the pages of `make observe`
# in tests/e2e/test_observe.py. fir prints FIRs in DejaVu Sans with Lohit for Devanagari.
packages=(mariadb-server mariadb-client mariadb-backup redis-server wrk hey prometheus
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin espeak-ng fonts-dejavu-core fonts-lohit-deva
  g++ make cmake chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d keeps apt from starting the system-wide daemons: the stack runs its own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
