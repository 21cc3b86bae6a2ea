# Sourced by the GPU scripts after `bin=$1; out=$2`: the 27B config (cfg),
# log (tee into $out/log.txt), summary (gpu_e2e_summary.sh), and the copy
# ceiling measured first (its line in the log).
cfg=tests/fixtures/configs/qwen3.5-27b.config.json
log() { tee -a "$out/log.txt"; }
source "$(dirname "${BASH_SOURCE[0]}")/gpu_e2e_summary.sh"
"$bin/vk_ceiling" > "$out/ceiling.txt" 2>&1; tail -1 "$out/ceiling.txt" | log
