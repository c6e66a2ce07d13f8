#!/usr/bin/env bash
# check_install.sh BUILD_DIR SOURCE_DIR - install qmx into a temporary prefix,
# then build a consumer with find_package(qmx) (shared and static) and with
# pkg-config, and run each.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
libdir=$(ls -d "$work"/prefix/lib*/ | head -1)
test -f "$work/prefix/include/qmx/qmx.h"
test -f "$libdir/pkgconfig/qmx.pc"
# The tool's data: workload files and the measured GPU reference.
test -f "$work/prefix/share/qmx/workloads/bert-base.ini"
test -f "$work/prefix/share/qmx/energy/reference/h200-gemm-energy.csv"

cmake -S "$src/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
cmake --build "$work/consumer" >"$work/build.log"
LD_LIBRARY_PATH="$libdir" "$work/consumer/consumer_shared"
"$work/consumer/consumer_static"

PKG_CONFIG_PATH="$libdir/pkgconfig" cc -o "$work/consumer_pc" "$src/consumer/consumer.c" \
	$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs qmx)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
echo "install ok: find_package(qmx) shared + static, pkg-config"
