#!/bin/bash
# Registers / occupancy against speed: MXFP4 gate/up (17408 x 5120) timed
# serially over rows per subgroup x load unroll at n = 1 and 4, with the
# driver's statistics of every pipeline variant printed by kernel-bench
# (VK_KHR_pipeline_executable_properties; the timings of such a run are not
# trustworthy, see kernel_bench.cpp); then 27B decode and its profile, whose
# last lines are the statistics of every pipeline the model uses.
# Usage (repo root on the GPU machine): scripts/gpu_stats_sweep.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
"$bin/mlxmtp-kernel-bench" 17408 5120 536870912 2,4,8 0 0 2,4,8 mxfp4,bf16 0 1 1,4 1 > "$out/stats_sweep.jsonl" 2>&1
python3 - "$out/stats_sweep.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    if not l.startswith('{'): continue
    r = json.loads(l)
    if r.get("kernel") == "matvec":
        print(f'{r["format"]:6} n={r["n"]:2} rps={r["rps"]} unroll={r["unroll"]} ks={r["ksplit"]} {r["us"]:8.2f} us {r["gb_s"]:7.1f} GB/s')
    elif r.get("kernel") == "pipeline_stats" and "matvec" in r["key"]:
        print(r["key"].replace("matvec|", ""), "::", r["stats"])
PY
"$bin/mlxmtp-verify-bench" $cfg mxfp4 > "$out/verify_mxfp4.jsonl" 2>&1
"$bin/mlxmtp-verify-bench" $cfg mxfp4 > "$out/verify_mxfp4_2.jsonl" 2>&1
grep -h -E '"decode"|"tokens":[23],' "$out"/verify_mxfp4*.jsonl | cut -c1-110
"$bin/mlxmtp-verify-bench" --profile $cfg mxfp4 > "$out/profile_mxfp4.jsonl" 2>&1
grep '"of":"decode"' "$out/profile_mxfp4.jsonl" | head -8
grep -c pipeline_stats "$out/profile_mxfp4.jsonl"
grep pipeline_stats "$out/profile_mxfp4.jsonl" | grep -v matvec | cut -c1-300
