#!/usr/bin/env bash
# Run every benchmark script in tests/benchmarks/ one after the other and keep their tables.
# Usage: bash scripts/bench.sh [name ...]     e.g. bash scripts/bench.sh mr pet
# Needs the test environment (bash scripts/test.sh creates .venv). Run on a quiet machine:
# the figures are wall-clock latencies. Output: test-artifacts/benchmarks-<name>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(anatomy mr pet ai console mentoring exercises)
mkdir -p test-artifacts
export MERM_HOME="${MERM_HOME:-$(mktemp -d)}"
for name in "${names[@]}"; do
  script="tests/benchmarks/bench_${name}.py"
  [ -f "$script" ] || { echo "no benchmark named '$name' (tests/benchmarks/bench_*.py)" >&2; exit 2; }
  echo "=== $name" | tee "test-artifacts/benchmarks-${name}.txt"
  if grep -q "__main__" "$script"; then
    .venv/bin/python "$script" 2>&1 | tee -a "test-artifacts/benchmarks-${name}.txt"
  else
    .venv/bin/python -m pytest -q -p no:cacheprovider "$script" --benchmark-only \
      --benchmark-columns=min,median,max,rounds 2>&1 | tee -a "test-artifacts/benchmarks-${name}.txt"
  fi
done
