#!/bin/sh
# Installs the Debian 12 packages mlxmtp needs to build, test and run (as root).
set -eu
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake ninja-build pkg-config file dpkg-dev \
  libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools \
  libshaderc-dev glslang-dev glslang-tools spirv-tools \
  libjson-c-dev libpcre2-dev libutf8proc-dev libsentencepiece-dev sentencepiece \
  libpng-dev libjpeg-dev libcpp-httplib-dev libcli11-dev \
  libgtest-dev libgmock-dev python3 python3-numpy python3-jsonschema
