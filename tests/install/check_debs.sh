#!/bin/sh
# Builds the Debian packages with CPack and checks their names, dependencies
# and contents.  Usage: check_debs.sh BUILD_DIR SCRATCH_DIR
set -eu
build=$1; out=$2
rm -rf "$out"; mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
rt=$(ls "$out"/libmlxmtp0_*.deb); dev=$(ls "$out"/libmlxmtp-dev_*.deb); tools=$(ls "$out"/mlxmtp-tools_*.deb)
dpkg-deb -c "$rt" | grep -q 'libmlxmtp\.so\.0\.'
dpkg-deb -c "$rt" | grep -q 'libmlxmtp\.so\.0 ->'
! dpkg-deb -c "$rt" | grep -q 'include/'
dpkg-deb -c "$dev" | grep -q 'include/mlxmtp\.h'
dpkg-deb -c "$dev" | grep -q 'include/mlxmtp\.hpp'
dpkg-deb -c "$dev" | grep -q 'pkgconfig/mlxmtp\.pc'
dpkg-deb -c "$dev" | grep -q 'cmake/mlxmtp/mlxmtpConfig\.cmake'
dpkg-deb -c "$dev" | grep -q 'libmlxmtp\.so ->'
dpkg-deb -c "$tools" | grep -q 'bin/mlxmtp$'
dpkg-deb -f "$dev" Depends | grep -q 'libmlxmtp0 (= '
dpkg-deb -f "$tools" Depends | grep -q 'libmlxmtp0 (= '
dpkg-deb -f "$rt" Depends | grep -q 'libvulkan1'
# No RPATH in the shipped library.
mkdir -p "$out/x" && dpkg-deb -x "$rt" "$out/x"
! readelf -d "$out"/x/usr/lib*/libmlxmtp.so.0.* 2>/dev/null | grep -qE 'RPATH|RUNPATH'
echo "packages OK: $(cd "$out" && ls *.deb | tr '\n' ' ')"
