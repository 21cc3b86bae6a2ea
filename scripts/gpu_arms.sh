#!/bin/bash
# A/B arms of mlxmtp-verify-bench in one GPU call, 27B MXFP4 synthetic on
# tensor cores, each arm its own process, then (PROFILE=1) the GPU time per
# kernel for decode and verify of 2 / 4 / 8 / 9 tokens with the driver's
# pipeline statistics.  ARMS: space-separated NAME or NAME:FLAG,FLAG,...
# (commas become spaces), e.g. "base pf2:--frag-define,PF=2".
# Usage (repo root on the GPU machine): scripts/gpu_arms.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
source "$(dirname "$0")/gpu_common.sh"
for arm in ${ARMS:-base}; do
  name=${arm%%:*}; flags=()
  [ "$name" != "$arm" ] && IFS=' ' read -r -a flags <<< "${arm#*:}" && flags=(${flags[@]//,/ })
  f="$out/e2e_$name.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec "${flags[@]}" $cfg ${FORMAT:-mxfp4} 1.887 2.496 2.908 3.156 > "$f" 2>&1
  summary "$name" "$f" | log
done
if [ "${PROFILE:-0}" = 1 ]; then
  "$bin/mlxmtp-verify-bench" --frag-matvec --profile ${PROFILE_FLAGS:-} $cfg ${FORMAT:-mxfp4} > "$out/profile.jsonl" 2>&1
  grep '"what":"profile"' "$out/profile.jsonl" | log
fi
