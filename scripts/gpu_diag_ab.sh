#!/bin/bash
# What bounds the MXFP4 matvec in the model: diagnostic kernel variants
# (matvec.comp DIAG_*: wrong results, timing only) and A/B flags against the
# default, 27B decode and verify through mlxmtp-verify-bench.
# Usage (repo root on the GPU machine): scripts/gpu_diag_ab.sh BIN_DIR OUT_DIR [VARIANT...]
# A variant is "name|FORMAT verify-bench flags..." (FORMAT mxfp4, bf16, mxfp8).
set -u
bin=$1; out=$2; shift 2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=("default|mxfp4" "cvt|mxfp4 --matvec-define DIAG_DECODE=1"
  "nodecode|mxfp4 --matvec-define DIAG_DECODE=2" "xcoal|mxfp4 --matvec-define DIAG_XCOAL"
  "nodecode_xcoal|mxfp4 --matvec-define DIAG_DECODE=2 --matvec-define DIAG_XCOAL" "default2|mxfp4")
for v in "${variants[@]}"; do
  name=${v%%|*}; read -ra a <<< "${v#*|}"
  fmt=${a[0]}
  "$bin/mlxmtp-verify-bench" "${a[@]:1}" $cfg "$fmt" > "$out/v_$name.jsonl" 2>&1
done
for v in "${variants[@]}"; do
  f="$out/v_${v%%|*}.jsonl"
  echo "== $(basename $f)"; grep -E '"decode"|"tokens":[2-9],' "$f" | sed 's/"what"://; s/"weight_bytes".*//; s/"ratio_to_decode"/r/; s/"verify",//; s/"tokens"://' | cut -c1-40 | tr '\n' ' '; echo
done
