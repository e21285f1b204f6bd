#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run the whole suite.
# Usage: bash scripts/test.sh [pytest args...]      (README's second command; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: Chromium for browser tests, dicom3tools for DICOM validation,
# PostgreSQL for the progress store. Installed only when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
# DCMTK (dcm2pnm rendering), dcm2niix (vendor and volume check), Orthanc with its worklist
# plugin (the real PACS of the hospital-workflow tests).
command -v dcm2pnm >/dev/null 2>&1 || need+=(dcmtk)
command -v dcm2niix >/dev/null 2>&1 || need+=(dcm2niix)
{ [ -x /usr/sbin/Orthanc ] || command -v Orthanc >/dev/null 2>&1; } || need+=(orthanc)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# npm: configurable-http-proxy, JupyterHub's proxy (the end-to-end school test, tests/deploy)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
  else
    echo "warning: missing ${need[*]} (run as root to install); those tests will be skipped" >&2
  fi
fi
if ! command -v configurable-http-proxy >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ]; then
  npm install -g --silent configurable-http-proxy >/dev/null
fi

# Python environment: a local venv with the package and its test extra.
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

export MERM_HOME="${MERM_HOME:-$(mktemp -d)}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p test-artifacts
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests" >&2
  exit 0
fi
exit "$rc"
