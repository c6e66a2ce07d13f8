#!/bin/sh
# run_rtl_coverage.sh SRC DIR - RTL coverage of the 8x8 build: configure a tree
# of its own in DIR with -DQMX_RTL_COVERAGE=ON (the sim backend and the RTL
# test benches verilated with --coverage), run the RTL benches and the whole
# conformance suite on sim, merge the counts with verilator_coverage and
# summarise line and toggle coverage of hw/rtl (rtl_coverage.py).
set -eu
SRC=$1 DIR=$2
JOBS=${QMX_JOBS:-2}
cmake -S "$SRC" -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQMX_RTL_COVERAGE=ON \
	-DQMX_SIM_ARRAYS=8x8 -DQMX_BACKEND_KMOD=OFF -DQMX_BACKEND_XRT=OFF \
	-DQMX_BACKEND_OPENCL=OFF -DQMX_BACKEND_ONEDNN=OFF -DQMX_BUILD_BENCH=OFF \
	-DQMX_BUILD_PYTHON=OFF >/dev/null
cmake --build "$DIR" -j "$JOBS" --target qmx_conformance rtl_top_tb rtl_pe_tb rtl_requant_tb \
	test_sim_backend test_cmdq
COV=$DIR/coverage
rm -rf "$COV"
mkdir -p "$COV"
export QMX_COVERAGE_DIR=$COV
B=$DIR/tests
"$B/rtl/rtl_pe_tb"
"$B/rtl/rtl_requant_tb"
for sub in regs "gemm 12" errors "cmdq 10"; do
	# shellcheck disable=SC2086 # sub holds the bench's arguments
	"$B/rtl/rtl_top_tb" $sub
done
"$B/sim/test_sim_backend"
"$B/sim/test_cmdq"
"$B/conformance/qmx_conformance" --device sim
verilator_coverage --write "$COV/merged.dat" "$COV"/*-*.dat
verilator_coverage --annotate "$COV/annotated" --annotate-min 1 "$COV/merged.dat" >/dev/null
exec python3 "$SRC/tests/coverage/rtl_coverage.py" "$COV/merged.dat" "$SRC/hw/rtl" \
	"$SRC/tests/coverage/waivers.txt"
