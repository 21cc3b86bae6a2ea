#!/bin/bash
# Everything a GPU call needs, from a fresh checkout on this (CPU) machine:
# the runtime packages (.gpu-debs, ../shared/device/fetch-runtime-debs.sh),
# a Release build of the benches in build-gpu/, vk_ceiling, and the packed
# binaries (.gpu-pack/bin.tar.xz, scripts/gpu_pack.sh).  Then run with
# carry [".gpu-debs", ".gpu-pack"] and begin the command with
#   source .gpu-debs/gpu-env.sh .gpu-debs >/dev/null; mkdir -p /tmp/b
#   tar -xJf .gpu-pack/bin.tar.xz -C /tmp/b; export LD_LIBRARY_PATH=/tmp/b:$LD_LIBRARY_PATH
# (e.g. then: bash scripts/gpu_frag_e2e.sh /tmp/b $OUT).  Needs the build
# packages (scripts/install-deps.sh) and ../shared.
set -eu
cd "$(dirname "$0")/.."
[ -f .gpu-debs/gpu-env.sh ] || ../shared/device/fetch-runtime-debs.sh .gpu-debs
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLXMTP_BUILD_TESTS=OFF -DMLXMTP_BUILD_EXAMPLES=OFF >/dev/null
ninja -C build-gpu mlxmtp_cli mlxmtp_kernel_bench mlxmtp_verify_bench
g++ -O2 -o build-gpu/vk_ceiling ../shared/device/vk_ceiling.cpp -Wl,--start-group \
  /usr/lib/x86_64-linux-gnu/libshaderc_combined.a -lglslang -lMachineIndependent -lOSDependent \
  -lOGLCompiler -lGenericCodeGen -lSPIRV -lSPIRV-Tools-opt -lSPIRV-Tools \
  -lglslang-default-resource-limits -Wl,--end-group -lvulkan -lpthread
bash scripts/gpu_pack.sh
