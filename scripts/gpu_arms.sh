#!/bin/bash
# A/B arms of mlxmtp-verify-bench in one GPU call, 27B MXFP4 synthetic on
# tensor cores, each arm its own process, then (PROFILE=1) the GPU time per
# kernel for decode and verify of 2 / 4 / 8 / 9 tokens with the driver's
# pipeline statistics.  ARMS: space-separated NAME or NAME:FLAG,FLAG,...
# (commas become spaces), e.g. "base pf2:--frag-define,PF=2", after a
# warm-up run (WARM=0: none).
# Usage (repo root on the GPU machine): scripts/gpu_arms.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
source "$(dirname "$0")/gpu_common.sh"
# A warm-up run first (WARM=0: none): the first process after the machine
# starts has measured decode at up to 2.6x its time (the GPU's clocks).
[ "${WARM:-1}" = 1 ] && "$bin/mlxmtp-verify-bench" --frag-matvec $cfg ${FORMAT:-mxfp4} > /dev/null 2>&1
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
# A call returns at most 8 files: past 6, the arms' outputs go back as one
# archive (log.txt and ceiling.txt stay beside it).
if [ "$(ls "$out" | wc -l)" -gt 6 ]; then
  (cd "$out" && tar -cJf arms.tar.xz e2e_*.jsonl $(ls profile.jsonl 2>/dev/null) && rm -f e2e_*.jsonl profile.jsonl)
fi
