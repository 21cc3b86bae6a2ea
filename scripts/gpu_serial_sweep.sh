#!/bin/bash
# The 27B model's matvec shapes timed the way the model runs them (a barrier
# after every dispatch) and back to back, over K splits, for MXFP4 and bf16;
# plus the cost of one tiny dispatch behind a barrier.
# Usage (repo root on the GPU machine): scripts/gpu_serial_sweep.sh BIN_DIR OUT_DIR [KSPLIT_LIST] [FORMATS]
set -u
bin=$1; out=$2; ks=${3:-0,1,2,4,8}; fmts=${4:-mxfp4,bf16}
# gate/up, down, GDN qkv, GDN/attn out, attn q+gate
for shape in "17408 5120" "5120 17408" "10240 5120" "5120 6144" "12288 5120"; do
  set -- $shape
  "$bin/mlxmtp-kernel-bench" $1 $2 536870912 0 0 "$ks" 0 "$fmts" 0 2 1,4,8
done > "$out/serial_sweep.jsonl" 2>&1
grep -E '"stage"' "$out/serial_sweep.jsonl" | head -2
python3 - "$out/serial_sweep.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"kernel":"matvec"')]
for r in rows:
    print(f'{r["format"]:6} {r["rows"]:6}x{r["cols"]:<6} n={r["n"]:2} ks={r["ksplit"]} serial={int(r["serial"])} {r["us"]:8.2f} us {r["gb_s"]:7.1f} GB/s')
PY
