#!/bin/bash
# What the stages between products cost (eighteenth session), 27B MXFP4
# synthetic on tensor cores, each arm its own verify-bench process: the
# default; without the residual add + RMSNorm stages (--diag-skip-norms);
# without any barrier (--diag-no-barriers).  The two diagnostics give wrong
# results: their times bound what removing those stages / barriers can save.
# Usage (repo root on the GPU machine): scripts/gpu_diag_stages.sh BIN_DIR OUT_DIR
# (E2E_ARMS: a subset of "base skipnorm nobar slices1 nospread spreadattn"; slices1: one
# RMSNorm workgroup per row, as before the eighteenth session; nospread: the
# norm stages instead of the spread norm; spreadattn: GDN layers keep their input
# norm stage.  Calls 2-3 of
# docs/results/h100-2026-12-06stage ran a "waits" arm, --stage-waits, since removed.)
set -u
bin=$1; out=$2
source "$(dirname "$0")/gpu_common.sh"
for arm in ${E2E_ARMS:-base skipnorm nobar}; do
  case $arm in
    base) flags=() ;;
    skipnorm) flags=(--diag-skip-norms) ;;
    nobar) flags=(--diag-no-barriers) ;;
    slices1) flags=(--norm-slices 1) ;;
    nospread) flags=(--no-spread-norm) ;;
    spreadattn) flags=(--no-spread-gdn) ;;
  esac
  f="$out/e2e_$arm.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec "${flags[@]}" $cfg mxfp4 1.887 2.496 2.908 3.156 > "$f" 2>&1
  summary "$arm" "$f" | log
done
