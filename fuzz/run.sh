#!/bin/sh
# Runs one fuzz target for a while, single process, with the limits used
# for docs/robustness.md. Usage: fuzz/run.sh TARGET [SECONDS [FLAG...]]
# Further libFuzzer flags pass through (-seed=N to repeat a run, say).
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
set -eu
cd "$(dirname "$0")"
t=$1
secs=${2:-600}
shift $(( $# < 2 ? $# : 2 ))
case $t in
  zvhd2_footer) max=1024 ;;
  zvhd2_file) max=131072 ;;
  scan_bitmap) max=65536 ;;
  probe) max=262144 ;;
  ims_lint) max=16384 ;;
  disk_open) max=1048576 ;;
  fs_walk) max=4194304 ;;
  regf_walk) max=262144 ;;
  *) echo "unknown target $t" >&2; exit 2 ;;
esac
mkdir -p "corpus/$t" artifacts
# A dictionary of the format's tokens, where the target has one.
dict=
if [ -f "dicts/$t.dict" ]; then dict="-dict=dicts/$t.dict"; fi
# -a: debug assertions, so integer overflow panics instead of wrapping.
# -malloc_limit_mb catches any single allocation above 256 MB (what a size
# read from a file could cause). The whole-process limit is looser because
# AddressSanitizer's quarantine of freed memory alone grows to ~256 MB, so a
# long run of a fast target passed 512 MB without leaking anything.
exec cargo +nightly fuzz run -a "$t" "corpus/$t" "seeds/$t" -- \
  -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len="$max" -timeout=10 \
  -max_total_time="$secs" -print_final_stats=1 $dict "$@"
