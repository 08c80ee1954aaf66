#!/usr/bin/env bash
# Run one fuzz target for N executions: fuzz/run_fuzz.sh TARGET [RUNS] [WORKDIR] [libFuzzer flags...]
# The working corpus and crash artifacts go to WORKDIR (default /tmp/triage-fuzz/TARGET);
# the committed seeds in fuzz/seeds/TARGET are only read. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")"
target=$1
runs=${2:-1000000}
work=${3:-/tmp/triage-fuzz/$target}
shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$work/corpus" "$work/artifacts"
exec python3 "fuzz_$target.py" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "seeds/$target"
