# Sourced by ./run_app.sh and ./run_tests.sh: make sure .venv (in the current folder) exists.
# Using a virtual environment is what Debian 12 and Ubuntu 24.04 ask for: their own Python refuses
# "pip install" outside one (PEP 668, "externally-managed-environment").
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  rm -rf .venv
  if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -q && apt-get install -y -q python3-venv
      "$PYTHON" -m venv .venv
    else
      echo "Cannot create .venv with $PYTHON: install the venv module (sudo apt-get install -y python3-venv)" >&2
      exit 1
    fi
  fi
fi
