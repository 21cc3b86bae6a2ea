#!/bin/bash
# matvec_frag as the model runs it: a barrier after every dispatch
# (mlxmtp-kernel-bench SERIAL = 1, no pipeline statistics), one process per
# 27B shape with every configuration (weights repacked once), matvec.comp
# serialized beside it; then the 27B MXFP4 decode / verify end to end under
# global overrides.  (Back-to-back timings, gpu_frag.sh's, let consecutive
# dispatches overlap and hide a small grid's ramp and tail.)
# Usage (repo root on the GPU machine): scripts/gpu_frag_serial.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
IFS=';' read -r -a shapes <<< "${FRAG_SHAPES:-5120 17408;17408 5120;10240 5120;6144 5120;5120 6144;12288 5120;1024 5120}"
sets="${FRAG_SETS:-HLC=1,XF32,NSG=4,R=2;HLC=1,XF32,NSG=4,R=1;HLC=1,XF32,NSG=8,R=2;HLC=1,XF32,NSG=8,R=1;HLC=1,XF32,NSG=16,R=2;HLC=1,XF32,NSG=16,R=1;HLC=1,XF32,NSG=8,R=1,PF=4;HLC=1,XF32,NSG=16,R=1,PF=4}"
for shape in "${shapes[@]}"; do
  "$bin/mlxmtp-kernel-bench" $shape 536870912 0 0 0 0 mxfp4 0 1 "${FRAG_NS:-1,4,8,9}" 0 3 "$sets" >> "$out/serial.jsonl" 2>&1 ||
    echo "{\"shape\":\"$shape\",\"error\":\"exit $?\"}" >> "$out/serial.jsonl"
done
sed -nE 's/.*"kernel":"matvec","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"serial":true.*"us":([0-9.]+),.*/\1x\2 n=\3 matvec \4/p;
  s/.*"kernel":"matvec_frag","format":"mxfp4","rows":([0-9]+),"cols":([0-9]+),"n":([0-9]+),.*"defines":"HLC=1,XF32,([^"]*)","max_diff_rel":([^,]+),.*"us":([0-9.]+),.*"serial":true.*/\1x\2 n=\3 [\4] \6 (diff \5)/p;
  s/.*"error".*/&/p' "$out/serial.jsonl" | awk '!($0 ~ / matvec / && seen[$0]++)' | tee "$out/serial_table.txt"
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
for o in ${E2E_SETS:-NSG=16,R=1 NSG=16,R=2}; do
  flags=(--frag-matvec); for kv in $(echo $o | tr ',' ' '); do flags+=(--frag-define "$kv"); done
  f="$out/e2e_$(echo $o | tr ',=' '_-').jsonl"
  "$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$f" 2>&1
  printf '%s: ' "$o"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([0-9]+),"ms":([0-9.]+),"ratio_to_decode":([0-9.]+).*/\1:\2(\3)/p; s/.*"k":([1-4]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$f" | tr '\n' ' '; echo
done
