#!/bin/sh
# Installs the build into a scratch prefix, then builds and runs the examples
# with nothing but pkg-config (and the CMake package) pointing at it.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR
set -eu
build=$1; src=$2; scratch=$3
rm -rf "$scratch"; mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
libdir=$(ls -d "$scratch"/prefix/lib*/ | head -1)
export PKG_CONFIG_PATH="$(dirname "$(find "$scratch/prefix" -name mlxmtp.pc | head -1)")"
export LD_LIBRARY_PATH="$(dirname "$(find "$scratch/prefix" -name 'libmlxmtp.so' | head -1)")"
test -f "$scratch/prefix/include/mlxmtp.h"
test -f "$scratch/prefix/include/mlxmtp.hpp"
cc -std=c99 -Wall -Werror "$src/examples/simple.c" $(pkg-config --cflags --libs mlxmtp) -o "$scratch/simple_c"
c++ -std=c++17 -Wall -Werror "$src/examples/simple.cpp" $(pkg-config --cflags --libs mlxmtp) -o "$scratch/simple_cpp"
# The examples must not depend on RPATH: the library comes from LD_LIBRARY_PATH.
"$scratch/simple_c"
"$scratch/simple_cpp"
# find_package(mlxmtp) gives mlxmtp::mlxmtp.
mkdir -p "$scratch/cmake_consumer"
cat > "$scratch/cmake_consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.22)
project(consumer C)
find_package(mlxmtp 0.1 REQUIRED)
add_executable(simple_c simple.c)
target_link_libraries(simple_c PRIVATE mlxmtp::mlxmtp)
CM
cp "$src/examples/simple.c" "$scratch/cmake_consumer/"
cmake -S "$scratch/cmake_consumer" -B "$scratch/cmake_consumer/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake_consumer/build" >/dev/null
"$scratch/cmake_consumer/build/simple_c" >/dev/null
echo "install tree OK: $libdir"
