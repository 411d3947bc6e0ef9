#!/bin/sh
# Lists what a corpus covers: libFuzzer's -print_coverage over every input
# in DIR, run once each with the target fuzz/run.sh last built. Compare two
# listings with coverage_diff.py to see where a run's new edges are.
# Usage: fuzz/coverage.sh TARGET DIR > listing.txt
set -eu
t=$1
dir=$2
bin=$(ls -d "$(dirname "$0")"/target/*/release/"$t")
"$bin" -runs=0 -print_coverage=1 -rss_limit_mb=4096 -max_len=262144 "$dir" 2>&1 |
  sed -n '/^COVERAGE:/,$p'
