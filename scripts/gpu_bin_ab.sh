#!/bin/bash
# A/B of two builds on the GPU machine: 27B synthetic decode, verify and
# draft (mlxmtp-verify-bench) for each binary directory in turn, twice
# (A B A B), so that drift between calls shows.
# Usage (repo root on the GPU machine): scripts/gpu_bin_ab.sh OUT_DIR FORMAT NAME=BIN_DIR[+FLAG...]...
# Flags after '+' go to mlxmtp-verify-bench before the config (A/B knobs of
# one build), e.g. nofuse=/tmp/b+--unfused-mlp or rows1=/tmp/b+--glu-rows+1.
set -u
out=$1; fmt=$2; shift 2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for round in 1 2; do
  for nb in "$@"; do
    name=${nb%%=*}; rest=${nb#*=}; bin=${rest%%+*}; flags=""
    [ "$bin" != "$rest" ] && flags=$(echo "${rest#*+}" | tr '+' ' ')
    LD_LIBRARY_PATH=$bin:${LD_LIBRARY_PATH:-} "$bin/mlxmtp-verify-bench" $flags $cfg "$fmt" 1.887 2.496 2.908 3.156 \
      > "$out/${name}_${fmt}_$round.jsonl" 2>&1
  done
done
for f in "$out"/*_"$fmt"_*.jsonl; do
  printf '%s: ' "$(basename $f .jsonl)"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([2-9]),"ms":([0-9.]+).*/\1:\2/p; s/.*"k":([1-4]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$f" | tr '\n' ' '; echo
done
