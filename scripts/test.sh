#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run the whole suite.
# Usage: bash scripts/test.sh [pytest args...]      (README's second command; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."

# The whole script is one function that bash reads before running it: editing this file
# during a run cannot change the run.
main() {

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
# npm: axe-core, the accessibility engine the browser tests inject (tests/browser/test_a11y.py)
if command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
  && [ ! -f "$(npm root -g)/axe-core/axe.min.js" ]; then
  npm install -g --silent axe-core >/dev/null
fi

# Python environment: a local venv with the package and its test extra.
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

export MERM_HOME="${MERM_HOME:-$(mktemp -d)}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p test-artifacts
rm -f test-artifacts/junit-*.xml

# pytest's exit code 5 means "collected nothing" (a marker selected no test): not a failure.
run_pytest() {
  set +e
  .venv/bin/python -m pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" = 5 ]; then
    echo "pytest collected no tests for: $*" >&2
    rc=0
  fi
  return "$rc"
}

# With arguments: one pytest call with them (slow tests stay deselected unless -m asks).
if (($#)); then
  run_pytest "$@"
  return $?
fi

# The whole suite, in steps that fail apart: lint, unit, integration (real Chromium,
# PostgreSQL, dciodvfy/DCMTK, Orthanc), slow, and the school deployment (a real JupyterHub
# with system users, as root).
integration="browser or postgres or dciodvfy or orthanc"
steps=(
  "lint|tests/test_lint.py tests/test_layering.py|"
  "unit|tests|not (slow or school or $integration)"
  "integration|tests|($integration) and not (slow or school)"
  "slow|tests|slow and not school"
  "school|tests|school"
)
failed=()
for step in "${steps[@]}"; do
  IFS='|' read -r name paths marks <<<"$step"
  echo "=== step: $name ==="
  args=(-q --junitxml="test-artifacts/junit-$name.xml")
  if [ "$name" = lint ]; then args+=(-m "slow or not slow"); else args+=(-m "$marks" --ignore=tests/test_lint.py --ignore=tests/test_layering.py); fi
  # shellcheck disable=SC2086
  run_pytest $paths "${args[@]}" || failed+=("$name")
done

# One closing line for the whole run, summed over the steps' JUnit reports.
.venv/bin/python - "${failed[@]}" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for path in sorted(glob.glob("test-artifacts/junit-*.xml")):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for key in n:
            n[key] += int(suite.get(key, 0))
passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
if sys.argv[1:]:
    print("failed steps: " + ", ".join(sys.argv[1:]))
print(f"suite: {passed} passed, {n['failures'] + n['errors']} failed, {n['skipped']} skipped")
PY
((${#failed[@]} == 0))
}

main "$@"
