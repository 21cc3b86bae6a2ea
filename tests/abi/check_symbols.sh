#!/bin/sh
# Compares the dynamic symbols the library defines with tests/abi/symbols.txt.
# Usage: check_symbols.sh LIBRARY SYMBOLS_FILE
set -eu
lib=$1; expected=$2
actual=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$actual" | grep -v '^mlxmtp_' | grep -v '^MLXMTP_[0-9]*$' || true)
if [ -n "$bad" ]; then
  echo "symbols outside the mlxmtp_ namespace are exported:"; printf '%s\n' "$bad"; exit 1
fi
if ! printf '%s\n' "$actual" | grep -v '^MLXMTP_[0-9]*$' | diff -u "$expected" -; then
  echo "exported symbols differ from $expected (update it deliberately when adding API)"; exit 1
fi
nm -D --defined-only --with-symbol-versions "$lib" 2>/dev/null | grep -q '@@MLXMTP_0' || {
  echo "symbols are not in the MLXMTP_0 version node"; exit 1; }
echo "ABI symbols OK ($(printf '%s\n' "$actual" | grep -c '^mlxmtp_') exported)"
