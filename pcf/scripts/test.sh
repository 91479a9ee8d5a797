#!/usr/bin/env bash
# The PCF controls' whole check (the chat panel and the inbox), for the root Makefile's `test` target:
# install (when the lock file changed), unit tests, the PCF build (both controls), type-check, and the
# browser tests in headless Chromium against the real local app (tests/e2e/*.e2e.test.ts: the chat
# journey, then the inbox). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$(cd .. && pwd)
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(( $(date +%s) - started ))"; }

stamp=node_modules/.installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

step "unit tests"
npx vitest run

step "build (pcf-scripts: manifest, ESLint, bundle; WhatsAppChat and WhatsAppInbox)"
# pcf-scripts exits 0 even when ESLint or the manifest check fails: its log says so.
build_log=$(mktemp)
npm run --silent build 2>&1 | tee "$build_log"
if grep -q "\[build\] Failed" "$build_log" || [ ! -f out/controls/WhatsAppChat/bundle.js ] || [ ! -f out/controls/WhatsAppInbox/bundle.js ]; then
  rm -f "$build_log"
  echo "the build failed (above)"
  exit 1
fi
rm -f "$build_log"

step "type-check (both controls, their tests and harnesses)"
npm run --silent typecheck

step "browser tests (the chat journey, the inbox)"
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the end-to-end test"
    apt-get update -qq && apt-get install -y -qq chromium
  else
    echo "SKIPPED: the end-to-end test needs $chromium (apt-get install chromium, as root)."
    echo "e2e: 0 passed, 0 failed (skipped)"
    exit 0
  fi
fi
# Emoji (reactions, quotes) as agents see them in the screenshots; without the font they are boxes.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
  echo "installing Debian's colour emoji font for the screenshots"
  apt-get install -y -qq fonts-noto-color-emoji >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji >/dev/null; } ||
    echo "(no emoji font: emoji show as boxes in the screenshots; the checks do not depend on it)"
fi
if [ ! -x "$repo_root/.venv/bin/python" ] || [ ! -d "$repo_root/node_modules/azurite" ]; then
  echo "the local app is not installed yet: make install"
  make -C "$repo_root" install
fi

rm -f test-output/e2e-results.json
set +e
npx vitest run --config vitest.e2e.config.ts
status=$?
set -e
node -e '
  const fs = require("fs");
  const file = "test-output/e2e-results.json";
  const r = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : { numPassedTests: 0, numFailedTests: 1 };
  console.log(`e2e: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
'
echo "pcf: done in $(( $(date +%s) - started ))s"
exit $status
