# Sourced by the GPU scripts: summary NAME FILE prints one line from an
# mlxmtp-verify-bench JSON output: decode ms, verify n:ms(ratio to decode),
# the k = 1 draft step, projected speedups s1..s8.
summary() {
  printf '%s: ' "$1"
  sed -nE 's/.*"what":"decode".*"ms":([0-9.]+).*/decode \1 |/p; s/.*"what":"verify","tokens":([0-9]+),"ms":([0-9.]+),"ratio_to_decode":([0-9.]+).*/\1:\2(\3)/p; s/.*"what":"draft","k":1,"ms":([0-9.]+).*/draft1 \1/p; s/.*"k":([1-8]),"tokens_per_round".*"speedup":([0-9.]+).*/s\1=\2/p' "$2" | tr '\n' ' '; echo
}
