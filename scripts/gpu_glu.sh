#!/bin/bash
# The fused gate / up / SwiGLU matvec against the unfused MLP on the GPU
# machine: decode and verify with and without fusion (same binary, same
# call), and the GLU kernel alone on the 27B gate / up shape over K splits.
# Usage (repo root on the GPU machine): scripts/gpu_glu.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/vk_ceiling" 1024 > "$out/ceiling.txt" 2>&1; grep -E "GB/s" "$out/ceiling.txt" | tail -1
for rep in 1 2; do
  "$bin/mlxmtp-verify-bench" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4_glu_$rep.jsonl" 2>&1
  "$bin/mlxmtp-verify-bench" --no-glu $cfg mxfp4 1.887 2.496 2.908 3.156 > "$out/verify_mxfp4_noglu_$rep.jsonl" 2>&1
  for f in glu noglu; do echo "== $f $rep"; grep -E '"decode"|"verify"|speedup' "$out/verify_mxfp4_${f}_$rep.jsonl" | cut -c1-110; done
done
"$bin/mlxmtp-kernel-bench" 17408 5120 536870912 0 0 0,1,2,4 0 mxfp4,glu 0 2 1,2,4,8 > "$out/glu_kernel.jsonl" 2>&1
python3 - "$out/glu_kernel.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    if not l.startswith('{"kernel":"matvec"'): continue
    r = json.loads(l)
    print(f'{r["format"]:6} glu={int(r["glu"])} n={r["n"]:2} ks={r["ksplit"]} serial={int(r["serial"])} {r["us"]:8.2f} us {r["gb_s"]:7.1f} GB/s')
PY
