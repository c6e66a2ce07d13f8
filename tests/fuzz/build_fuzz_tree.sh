#!/bin/sh
# build_fuzz_tree.sh SRC DIR CLANG CLANGXX - configure and build the libFuzzer
# targets in DIR with clang (cpu backends only; see CMakeLists.txt here).
set -eu
SRC=$1 DIR=$2
cmake -S "$SRC" -B "$DIR" -DCMAKE_C_COMPILER="$3" -DCMAKE_CXX_COMPILER="$4" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DQMX_FUZZ=ON -DBUILD_TESTING=OFF \
	-DQMX_BACKEND_SIM=OFF -DQMX_BACKEND_KMOD=OFF -DQMX_BACKEND_XRT=OFF \
	-DQMX_BACKEND_OPENCL=OFF -DQMX_BACKEND_ONEDNN=OFF -DQMX_BUILD_BENCH=OFF -DQMX_BUILD_PYTHON=OFF >/dev/null
cmake --build "$DIR" --target qmx_fuzz_all -j "${QMX_JOBS:-2}"
