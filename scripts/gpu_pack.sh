#!/bin/bash
# Packs the GPU-machine binaries of build-gpu/ (stripped, xz) into
# .gpu-pack/bin.tar.xz: the working tree plus unpacked binaries exceed the
# device tool's 64 MiB carry limit.  On the GPU machine:
#   source .gpu-debs/gpu-env.sh .gpu-debs; mkdir -p /tmp/b
#   tar -xJf .gpu-pack/bin.tar.xz -C /tmp/b; export LD_LIBRARY_PATH=/tmp/b:$LD_LIBRARY_PATH
# Build first: cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release
#   -DMLXMTP_BUILD_TESTS=OFF -DMLXMTP_BUILD_EXAMPLES=OFF
#   && ninja -C build-gpu mlxmtp_cli mlxmtp_kernel_bench mlxmtp_verify_bench
# and vk_ceiling into build-gpu/:
#   g++ -O2 -o build-gpu/vk_ceiling ../shared/device/vk_ceiling.cpp -Wl,--start-group
#     /usr/lib/x86_64-linux-gnu/libshaderc_combined.a -lglslang -lMachineIndependent -lOSDependent
#     -lOGLCompiler -lGenericCodeGen -lSPIRV -lSPIRV-Tools-opt -lSPIRV-Tools
#     -lglslang-default-resource-limits -Wl,--end-group -lvulkan -lpthread
set -eu
cd "$(dirname "$0")/.."
rm -rf .gpu-bin && mkdir -p .gpu-bin .gpu-pack
cp -P build-gpu/libmlxmtp.so* build-gpu/mlxmtp build-gpu/mlxmtp-kernel-bench build-gpu/mlxmtp-verify-bench \
  build-gpu/vk_ceiling .gpu-bin/
for f in .gpu-bin/*; do [ -L "$f" ] || strip "$f"; done
tar -C .gpu-bin -cJf .gpu-pack/bin.tar.xz .
ls -la .gpu-pack/bin.tar.xz
