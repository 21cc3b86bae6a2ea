#!/bin/bash
# Prefill A/B arms on the GPU machine: a 2048-token 27B MXFP4 synthetic
# prefill (mlxmtp-verify-bench --prefill-only, tensor cores), each arm its own
# process (ARMS as in gpu_arms.sh: NAME or NAME:FLAG,FLAG,...; commas become
# spaces), then (PROFILE=NAME ...) one profiled prefill for each named arm.
# Usage (repo root on the GPU machine): scripts/gpu_prefill_arms.sh BIN_DIR OUT_DIR
set -u
bin=$1; out=$2
source "$(dirname "$0")/gpu_common.sh"
flags_of() {  # the flags of arm $1 in ARMS
  for arm in ${ARMS:-base}; do
    [ "${arm%%:*}" = "$1" ] || continue
    [ "$arm" != "$1" ] && echo "${arm#*:}" | tr ',' ' '
  done
}
for arm in ${ARMS:-base}; do
  name=${arm%%:*}
  f="$out/prefill_$name.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec $(flags_of "$name") --prefill-only ${TOKENS:-2048} $cfg mxfp4 > "$f" 2>&1
  echo "$name: $(grep -o '"tok_s":[0-9.]*' "$f" | tr '\n' ' ')$(grep -m1 -i error "$f")" | log
done
for name in ${PROFILE:-}; do
  f="$out/profile_$name.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec --profile $(flags_of "$name") --prefill-only ${TOKENS:-2048} $cfg mxfp4 > "$f" 2>&1
  echo "profile $name:" | log
  grep '"what":"profile' "$f" | head -${TOP:-25} | log
done
