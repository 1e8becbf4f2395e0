#!/usr/bin/env bash
# Sets up a fresh Debian machine for building, testing and running Virt Studio:
# the Debian packages the tests use (lists in scripts/apt/*.txt, one package a line) and npm deps.
# Needs root (or sudo) for apt-get. Safe to run again.
set -uo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

packages=$(cat scripts/apt/*.txt | sed 's/#.*//' | tr -s ' \n' '\n' | grep -v '^$' | sort -u)
if echo "$packages" | grep -q ':i386$'; then
  $SUDO dpkg --add-architecture i386
fi
missing=$(for p in $packages; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages: $(echo $missing)"
  # One bad mirror index makes apt-get update exit non-zero although the lists we need are fine.
  $SUDO apt-get update || echo "setup: apt-get update reported a problem; continuing"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing || exit 1
else
  echo "setup: Debian packages already installed"
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund || exit 1; else npm install --no-audit --no-fund || exit 1; fi

# Node 24 + code-server for the tests inside a real VS Code and npm start (cached outside node_modules).
node scripts/vscode-tools.mjs || exit 1
