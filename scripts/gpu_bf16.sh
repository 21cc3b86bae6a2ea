#!/bin/bash
# bf16 weights on tensor cores (matvec_frag.comp AF16, seventeenth session)
# in one call: the copy ceiling; the native self-test (matvec_frag_bf16
# among the checks); issue 5's kernel row, 4096 x 14336 bf16 rotating over
# 512 MB, matvec.comp against AF16 (x rounded to fp16 and as hi / lo), n =
# 1, 2, 4, 8, 9, 16; then the 27B end to end (decode, verify of 2..9, draft):
# bf16 standard against bf16 on tensor cores, and MXFP4 (tensor cores)
# without and with its bf16 MTP head on tensor cores.
# Usage (repo root on the GPU machine): scripts/gpu_bf16.sh BIN_DIR OUT_DIR
# (KERNELS=0 skips the kernel row; E2E_ARMS narrows the end-to-end arms:
# bf16 (standard kernels), bf16tc, mxfp4 (bf16 MTP head on the standard
# kernels), mxfp4tc (the default), mxfp4_std (no tensor cores).)
set -u
bin=$1; out=$2
source "$(dirname "$0")/gpu_common.sh"
if [ "${SELFTEST:-1}" = 1 ]; then
  "$bin/mlxmtp" info --selftest > "$out/selftest.txt" 2>&1; grep -E "self-test|frag" "$out/selftest.txt" | log
fi
if [ "${KERNELS:-1}" = 1 ]; then
  "$bin/mlxmtp-kernel-bench" 4096 14336 536870912 0 0 0 0 bf16 0 0 1,2,4,8,9,16 0 3 \
    "XQ=1,XF32,XP=1,X16=1;XQ=1,XF32,XP=1" > "$out/kernel_bf16.jsonl" 2>&1
  sed -nE 's/.*"kernel":"(matvec[a-z_]*)".*"n":([0-9]+).*"defines":"([^"]*)".*"us":([0-9.]+).*"gb_s":([0-9.]+).*/\1 \3 n=\2 \4 us \5 GB\/s/p;
           s/.*"kernel":"(matvec)","format":"bf16".*"n":([0-9]+).*"us":([0-9.]+).*"gb_s":([0-9.]+).*/\1 n=\2 \3 us \4 GB\/s/p' \
    "$out/kernel_bf16.jsonl" | log
fi
for arm in ${E2E_ARMS:-bf16 bf16tc mxfp4 mxfp4tc}; do
  case $arm in  # (bf16 on tensor cores is the default since 2026-12-06)
    bf16) fmt=bf16; flags=() ;;
    bf16tc) fmt=bf16; flags=(--frag-matvec) ;;
    mxfp4) fmt=mxfp4; flags=(--frag-matvec --frag-no-bf16) ;;
    mxfp4tc) fmt=mxfp4; flags=(--frag-matvec) ;;
    mxfp4_std) fmt=mxfp4; flags=() ;;
  esac
  f="$out/e2e_$arm.jsonl"
  "$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg $fmt 1.887 2.496 2.908 3.156 > "$f" 2>&1
  summary "$arm" "$f" | log
done
