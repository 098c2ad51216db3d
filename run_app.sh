#!/usr/bin/env bash
# Install the app into .venv (the one ./run_tests.sh uses) and start it: http://localhost:8501
# Extra arguments go to "streamlit run", e.g. ./run_app.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")"

. scripts/ensure_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
