#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package linkplane needs to build, test,
# benchmark and demo. Idempotent: asks apt only for what is missing.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libboost-dev libssl-dev nlohmann-json3-dev libtomlplusplus-dev libsqlite3-dev sqlite3
  libnl-route-3-dev libmnl-dev libnftables-dev libbpf-dev libldns-dev libcurl4-openssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  awscli python3-boto3 python3-cryptography python3-pytest curl dnsutils iproute2 nftables procps psmisc
  dnsperf dnsmasq-base
  haproxy iperf3 wrk nginx-light
  dpkg-dev file
  golang golang-github-aws-aws-sdk-go-v2-dev
  chromium fonts-liberation
)
# Node and npm for the JavaScript SDK tests and the console's browser tests; any
# installed node with npm will do, so apt is asked only when there is none.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The AWS SDK for JavaScript v3 at the versions tests/sdk/js/package-lock.json names.
js=$(dirname "$0")/../tests/sdk/js
if [ ! -d "$js/node_modules/@aws-sdk/client-ec2" ]; then
  echo "install-deps: npm ci in tests/sdk/js"
  (cd "$js" && npm ci --no-audit --no-fund >/dev/null)
fi
# @aws-sdk/client-cloudwatch came later (test_cloudwatch_protocols.py): a tree installed before lacks it.
if [ ! -d "$js/node_modules/@aws-sdk/client-cloudwatch" ]; then
  echo "install-deps: npm ci in tests/sdk/js (client-cloudwatch)"
  (cd "$js" && npm ci --no-audit --no-fund >/dev/null)
fi

# The console's browser tests drive Debian's chromium with playwright-core and check
# pages with axe-core, both from npm at the versions of tests/browser/package-lock.json.
# Nothing downloads a browser.
browser_tests=$(dirname "$0")/../tests/browser
if [ ! -d "$browser_tests/node_modules/playwright-core" ] || [ ! -d "$browser_tests/node_modules/axe-core" ]; then
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
fi
