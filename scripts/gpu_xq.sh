#!/bin/bash
# x quads (matvec_frag.comp XQ, thirteenth session) on the GPU in one call:
# the tensor-core correctness check (gpu_tc_check.sh: native self-test, the
# trained model's tokens with and without tensor cores, which also loads
# with the standard codes dropped), the kernel back to back with and
# without XQ on the 27B shapes, then the 27B MXFP4 decode / verify / draft
# end to end: default path, tensor cores (XQ), tensor cores without XQ.
# Usage (repo root on the GPU machine): scripts/gpu_xq.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
log() { tee -a "$out/log.txt"; }
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1; tail -1 "$out/ceiling.txt" | log
[ "${TC_CHECK:-1}" = 1 ] && bash scripts/gpu_tc_check.sh "$bin" "$out" 2>&1 | log
[ "${KERNELS:-1}" = 1 ] && FRAG_SHAPES="${FRAG_SHAPES:-4096 14336;5120 17408;17408 5120}" FRAG_NS="${FRAG_NS:-1,4,5,8,9}" \
  bash scripts/gpu_frag.sh "$bin" "$out" ${FRAG_SETS:-XF32 XQ=1,XF32} 2>&1 | grep -E "^frag|^matvec" | log
source "$(dirname "$0")/gpu_e2e_summary.sh"
# Arms: base (the CLI's default path), xq (tensor cores with x quads and, since 2026-12-06, x split by its
# producers), pre (the same, the name of the A/B before), nopre (products split x themselves), noxq, or
# xq:NAME=V,NAME=V / pre:... / nopre:... (with frag defines, e.g. xq:GPW=1 for one column group per workgroup);
# preN (e.g. pre4): pre-split read only by products of at most N columns (--presplit-max-cols N);
# split or split:NAME=V,...: x as hi / lo halves, 4 tokens per column group (--frag-x-split; the default
# before 2026-12-06, which is now x rounded to fp16: xq, or x16 as the A/B before called it).
for arm in ${E2E_ARMS:-base xq noxq}; do
  defs=""  # the arm's frag defines (after its name)
  case $arm in
    base) flags=() ;;
    noxq) flags=(--frag-matvec --frag-no-x-quads) ;;
    nopre*) flags=(--frag-matvec --frag-no-presplit); defs=${arm#nopre} ;;
    x16*) flags=(--frag-matvec); defs=${arm#x16} ;;
    split*) flags=(--frag-matvec --frag-x-split); defs=${arm#split} ;;
    pre[0-9]*) flags=(--frag-matvec --presplit-max-cols "${arm#pre}") ;;
    pre*|xq*) flags=(--frag-matvec); defs=${arm#pre}; defs=${defs#xq} ;;
  esac
  for kv in $(echo "$defs" | tr ':,' '  '); do flags+=(--frag-define "$kv"); done
  f="$out/e2e_$(echo $arm | tr ':,=' '__-').jsonl"
  "$bin/mlxmtp-verify-bench" "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$f" 2>&1
  summary "$arm" "$f" | log
done
