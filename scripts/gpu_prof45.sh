#!/bin/bash
# Where a verify of 5 tokens (two column groups of the tensor-core kernel)
# spends the time a verify of 4 does not: mlxmtp-verify-bench --profile
# (a timestamp after every command) with tensor cores, per section for
# decode and verify 2 / 4 / 5 / 8, side by side.
# Usage (repo root on the GPU machine): scripts/gpu_prof45.sh BIN_DIR OUT_DIR
# (PROF_FLAGS: more verify-bench flags, e.g. --frag-presplit; PROF_NAME: the output name)
set -u
bin=$1; out=$2
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
f="$out/profile_${PROF_NAME:-xq}.jsonl"
"$bin/mlxmtp-verify-bench" --frag-matvec ${PROF_FLAGS:-} --profile $cfg mxfp4 > "$f" 2>&1
python3 - "$f" <<'PY' | tee -a "$out/log.txt"
import json, sys, collections
span = {}; ent = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    try: j = json.loads(line)
    except Exception: continue
    if j.get("what") == "profile": span[j["of"]] = j["gpu_span_us"]
    if j.get("what") == "profile_entry": ent[j["name"]][j["of"]] = j["us"]
cols = ["decode", "verify2", "verify4", "verify5", "verify8"]
print("%-36s" % "section (us per eval)" + "".join("%10s" % c for c in cols))
print("%-36s" % "span" + "".join("%10.1f" % span.get(c, 0) for c in cols))
for name in sorted(ent, key=lambda n: -ent[n].get("verify5", 0)):
    print("%-36s" % name[:36] + "".join("%10.1f" % ent[name].get(c, 0) for c in cols))
PY
