#!/bin/sh
# Quantizer throughput on a synthetic bf16 checkpoint (not a test).
# Usage: scripts/bench_quantize.sh BUILD_DIR [SIZE_GB] [WORK_DIR]
# Source in the page cache (read once first), output written and fsynced, no --verify.
set -eu
build=${1:?build dir}; size=${2:-2.2}; work=${3:-/tmp/mlxmtp-bench}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
[ -f "$work/src/model.safetensors.index.json" ] || /usr/bin/python3 "$here/make_synthetic_checkpoint.py" "$work/src" "$size"
cat "$work"/src/*.safetensors > /dev/null   # warm the page cache
for mode in mxfp4 mxfp8; do
  for threads in 1 2; do
    "$build/mlxmtp" quantize --src "$work/src" --out "$work/out-$mode" --mode "$mode" --threads "$threads" --force --json \
      | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('%s threads=%d: %.2f GB source in %.2f s = %.2f GB/s, %.1f tensors/s, %d shards' % (d['mode'], d['threads'], d['src_bytes']/1e9, d['seconds'], d['gb_per_s'], d['tensors_per_s'], d['shards']))"
  done
done
