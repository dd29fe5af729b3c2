#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine for tdc: Mesa's software Vulkan (lavapipe) from bookworm-backports
# (bookworm's own Mesa 22 is too old for Dawn), Debian's chromium (browser test), then the npm packages. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_mesa=1
if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q 'bpo12'; then need_mesa=0; fi
if [ "$need_mesa" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: installing Mesa lavapipe needs root (apt-get); re-run as root or install mesa-vulkan-drivers from bookworm-backports" >&2
    exit 1
  fi
  src=/etc/apt/sources.list.d/debian.sources
  dst=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null; then
    if [ -f "$src" ]; then
      # first stanza (the main Debian archive) with the suite swapped
      awk 'BEGIN{RS="";ORS="\n\n"} NR==1' "$src" | sed -e 's/^Suites:.*/Suites: bookworm-backports/' > "$dst"
    else
      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# Debian's Chromium: the browser test (test/consumer) drives it headless with WebGPU on SwiftShader. Never a downloaded browser.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: installing chromium needs root (apt-get); re-run as root or apt-get install chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

npm ci --no-audit --no-fund
echo "setup: done ($(node --version), $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}' mesa-vulkan-drivers), $(chromium --version 2>/dev/null | head -n 1))"
