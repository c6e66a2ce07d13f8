#!/usr/bin/env bash
# check_clang.sh SOURCE_DIR - the runtime, its host backends and the tool build
# warning-free with clang too (the Verilator model is left to the main build).
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CC=clang CXX=clang++ cmake -S "$src" -B "$work" -DQMX_WERROR=ON -DQMX_BACKEND_SIM=OFF \
	-DBUILD_TESTING=OFF -DQMX_BUILD_BENCH=OFF -DQMX_BUILD_PYTHON=OFF >"$work/configure.log"
cmake --build "$work" -j "$(nproc)" 2>&1 | tail -n 20
echo "clang build ok"
