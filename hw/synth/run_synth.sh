#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_synth.sh - synthesise qmx_top with Yosys for the given array sizes and
# write the figures to a JSON file (default hw/synth/area.json).
#
#   hw/synth/run_synth.sh [--regs-dir DIR] [--out FILE] [--bus BITS] 8x8 [16x16 32x32]
#
# The bus width of each size is the one the sim model is built with
# (max(64, 8 x columns), the advice in qmx_top.v) unless --bus fixes one.
# DIR holds the generated qmx_regs.vh (default: generated into a temp dir
# from hw/regmap/qmx_regmap.toml).  Existing entries of FILE for other sizes
# are kept.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/hw/synth/area.json
REGS=
BUS=
SIZES=()
while [ $# -gt 0 ]; do
	case "$1" in
	--regs-dir) REGS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--bus) BUS=$2; shift 2 ;;
	*x*) SIZES+=("$1"); shift ;;
	*) echo "usage: $0 [--regs-dir DIR] [--out FILE] [--bus BITS] RxC..." >&2; exit 2 ;;
	esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(8x8)
WORK=$(mktemp -d)
# QMX_SYNTH_KEEP=1 keeps the Yosys logs and netlist statistics.
[ -n "${QMX_SYNTH_KEEP:-}" ] && echo "work dir: $WORK" >&2 || trap 'rm -rf "$WORK"' EXIT
if [ -z "$REGS" ]; then
	REGS=$WORK/include
	mkdir -p "$REGS"
	python3 "$ROOT/tools/gen_regmap.py" "$ROOT/hw/regmap/qmx_regmap.toml" \
		--c "$REGS/qmx_regs.h" --verilog "$REGS/qmx_regs.vh"
fi
SRCS=$(ls "$ROOT"/hw/rtl/qmx_*.v)
for sz in "${SIZES[@]}"; do
	r=${sz%x*}
	c=${sz#*x}
	bus=$BUS
	if [ -z "$bus" ]; then
		bus=$((8 * c))
		[ "$bus" -ge 64 ] || bus=64
	fi
	d=$WORK/$sz
	mkdir -p "$d"
	echo "== yosys: qmx_top ${r}x${c}, ${bus}-bit bus" >&2
	start=$(date +%s)
	{
		echo "read_verilog -I$ROOT/hw/rtl -I$REGS $(echo $SRCS)"
		echo "chparam -set ARRAY_ROWS $r -set ARRAY_COLS $c -set AXI_DATA_WIDTH $bus qmx_top"
		echo "script $ROOT/hw/synth/qmx_synth.ys"
	} >"$d/run.ys"
	(cd "$d" && yosys -q -l yosys.log -s run.ys)
	secs=$(( $(date +%s) - start ))
	python3 "$ROOT/hw/synth/area_json.py" --size "$sz" --bus "$bus" --seconds "$secs" \
		--stat "$d/stat.txt" --mems "$d/mems.il" --out "$OUT"
done
