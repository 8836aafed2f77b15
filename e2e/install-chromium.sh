#!/usr/bin/env bash
# Install Debian's Chromium for the end-to-end tests when it is missing (Playwright cannot
# download its own browser here). Debian mirrors can fail transiently while they sync: retry.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
for attempt in 1 2 3 4 5; do
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; then
    exit 0
  fi
  echo "apt-get failed (attempt $attempt), retrying in 15 s" >&2
  sleep 15
done
echo "could not install Debian's chromium" >&2
exit 1
