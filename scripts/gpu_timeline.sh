#!/bin/bash
# Where a token's time goes between the tensor-core products (nineteenth
# session): mlxmtp-verify-bench --timeline on the 27B MXFP4 synthetic model
# (every product workgroup's start, end and SM for one decode and verifies
# of 8 and 9 tokens), the raw records xz-compressed, and
# scripts/timeline_report.py's summary (CEILING_GBS from vk_ceiling).
# Usage (repo root on the GPU machine): scripts/gpu_timeline.sh BIN_DIR OUT_DIR [verify-bench flags]
set -u
bin=$1; out=$2; shift 2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" > "$out/ceiling_tl.txt" 2>&1
gbs=$(grep -oE '[0-9.]+ GB/s' "$out/ceiling_tl.txt" | tail -1 | cut -d' ' -f1)
"$bin/mlxmtp-verify-bench" --frag-matvec "$@" --timeline /tmp/tl.bin $cfg mxfp4 > "$out/timeline.jsonl" 2>&1
cat "$out/timeline.jsonl"
xz -c /tmp/tl.bin > "$out/tl.bin.xz"
if command -v python3 > /dev/null; then
  CEILING_GBS=${gbs:-2868} python3 scripts/timeline_report.py /tmp/tl.bin > "$out/timeline_report.txt" 2>&1
  cat "$out/timeline_report.txt"
fi
