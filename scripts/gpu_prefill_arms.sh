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
# BUDGET_S (default 420): arms and profiles that would start later are skipped,
# so that the archive below is made inside the call's limit.
for arm in ${ARMS:-base}; do
  name=${arm%%:*}
  [ "$SECONDS" -lt "${BUDGET_S:-420}" ] || { echo "$name: skipped (BUDGET_S)" | log; continue; }
  f="$out/prefill_$name.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec $(flags_of "$name") --prefill-only ${TOKENS:-2048} $cfg mxfp4 > "$f" 2>&1
  echo "$name: $(grep -o '"tok_s":[0-9.]*\|"logits_fnv":"[0-9a-f]*"' "$f" | tr '\n' ' ')$(grep -m1 -i error "$f")" | log
done
for name in ${PROFILE:-}; do
  [ "$SECONDS" -lt "${BUDGET_S:-420}" ] || { echo "profile $name: skipped (BUDGET_S)" | log; continue; }
  f="$out/profile_$name.jsonl"
  "$bin/mlxmtp-verify-bench" --frag-matvec --profile $(flags_of "$name") --prefill-only ${TOKENS:-2048} $cfg mxfp4 > "$f" 2>&1
  echo "profile $name:" | log
  grep '"what":"profile' "$f" | head -${TOP:-25} | log
done
# A call returns at most 8 files: the per-arm outputs go back as one archive.
(cd "$out" && tar -cJf prefill_arms.tar.xz prefill_*.jsonl $(ls profile_*.jsonl 2>/dev/null) &&
  rm -f prefill_*.jsonl profile_*.jsonl)
