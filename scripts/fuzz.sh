#!/bin/bash
# libFuzzer runs of the parser fuzz targets (tests/fuzz/fuzz_targets.h) under
# ASan + UBSan, with clang (Debian 12: apt-get install clang-14).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds build-fuzz/fuzz_<target> for each target, runs it for the given time
# (default 60 s) from a copy of tests/fuzz/corpus/<target> (new inputs land
# in build-fuzz/corpus/<target>), and leaves crashing inputs in
# build-fuzz/crashes/<target>/.  A crash found here belongs in
# tests/fuzz/corpus/<target>/ once fixed: the unit tests replay that corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; shift || true
CXX=${CXX:-clang++-14}
out=build-fuzz
mkdir -p "$out"
srcs=(lib/util/error.cpp lib/util/log.cpp lib/util/fs.cpp lib/util/durable_file.cpp lib/io/*.cpp
      lib/model/config.cpp lib/tok/*.cpp lib/chat/*.cpp lib/parse/*.cpp tests/fuzz/fuzz_targets.cpp)
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -Iinclude -Ilib -Itests/fuzz -DMLXMTP_SOURCE_DIR="\"$PWD\"")
libs=(-ljson-c -lpcre2-8 -lutf8proc -lsentencepiece -lpthread)
# One object set, one binary per target.
if [ ! -f "$out/objs.stamp" ] || [ -n "$(find include lib tests/fuzz -newer "$out/objs.stamp" -name '*.[ch]*' | head -1)" ]; then
  rm -f "$out"/*.o
  for s in "${srcs[@]}"; do
    "$CXX" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$s" -o "$out/$(echo "$s" | tr / _).o" &
    while [ "$(jobs -r | wc -l)" -ge "$(nproc)" ]; do sleep 0.2; done
  done
  wait
  touch "$out/objs.stamp"
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(ls tests/fuzz/corpus))
rc=0
for t in "${targets[@]}"; do
  "$CXX" "${flags[@]}" -DMLXMTP_FUZZ_TARGET="\"$t\"" tests/fuzz/libfuzzer_main.cpp "$out"/*.o "${libs[@]}" \
    -o "$out/fuzz_$t"
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  cp -n tests/fuzz/corpus/$t/* "$out/corpus/$t/" 2>/dev/null || true
  echo "== $t ($secs s)"
  if ! "$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 "$out/corpus/$t" > "$out/$t.log" 2>&1; then
    rc=1; echo "   FOUND A PROBLEM: $(grep -m1 -E 'ERROR|SUMMARY|unexpected|Assertion' "$out/$t.log")"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$t.log" | tr '\n' ' '; echo
done
exit $rc
