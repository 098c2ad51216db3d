#!/usr/bin/env bash
# Install the dev tools into .venv and run every test: ruff, then the whole pytest suite
# (unit, page and real-browser tests). Extra arguments go to pytest, e.g. ./run_tests.sh -k train
set -euo pipefail
cd "$(dirname "$0")"

. scripts/ensure_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM=${DIGIT_LAB_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q && apt-get install -y -q chromium
  else
    echo "Chromium is needed for the browser tests: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
