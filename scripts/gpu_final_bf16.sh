#!/bin/bash
# The seventeenth session's closing numbers in one call (bf16 on tensor
# cores the default): the native self-test's tensor-core checks; issue 5's
# kernel row (4096 x 14336 rotating over 512 MB, n = 1 / 2 / 4 / 8 / 16:
# matvec.comp in bf16, MXFP8, MXFP4, and the tensor-core kernel in bf16 and
# MXFP4 with x rounded to fp16 and pre-split); 2048-token prefill (bf16 with
# and without tensor cores, MXFP4); the 27B decode / verify / draft: bf16
# standard, bf16 on tensor cores, MXFP4 on tensor cores.
# Usage (repo root on the GPU machine): scripts/gpu_final_bf16.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
log() { tee -a "$out/log.txt"; }
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1; tail -1 "$out/ceiling.txt" | log
"$bin/mlxmtp" info --selftest > "$out/selftest.txt" 2>&1; grep -E "self-test|frag" "$out/selftest.txt" | log
"$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 0 0 0 bf16,mxfp8,mxfp4 0 0 1,2,4,8,16 0 3 "XQ=1,XF32,XP=1,X16=1" \
  > "$out/kernel.jsonl" 2>&1
sed -nE 's/.*"kernel":"(matvec_frag)","format":"([a-z0-9]+)".*"n":([0-9]+).*"us":([0-9.]+).*"gb_s":([0-9.]+).*/\1 \2 n=\3 \4 us \5 GB\/s/p;
         s/.*"kernel":"(matvec)","format":"([a-z0-9]+)".*"n":([0-9]+).*"us":([0-9.]+).*"gb_s":([0-9.]+).*/\1 \2 n=\3 \4 us \5 GB\/s/p' \
  "$out/kernel.jsonl" | log
for p in "bf16 --frag-matvec" "bf16 --frag-matvec --frag-no-bf16" "mxfp4 --frag-matvec"; do
  set -- $p
  fmt=$1; shift
  echo "prefill $fmt $*:" | log
  "$bin/mlxmtp-verify-bench" "$@" --prefill-only 2048 $cfg $fmt 2>&1 | tail -2 | log
done
# The end-to-end arms are gpu_bf16.sh's (it measures the ceiling again first).
SELFTEST=0 KERNELS=0 E2E_ARMS="bf16 bf16tc mxfp4tc" bash "$(dirname "$0")/gpu_bf16.sh" "$bin" "$out"
