#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_kernel_test.sh - qmx.ko tested for real: build it with W=1 against the
# newest kernel headers under /usr/src, boot Debian's own kernel of that ABI
# under QEMU (TCG, q35) with a busybox initramfs, serve the ivshmem device
# with qmx-simd (the Verilator model), and run the guest steps of
# guest/init.sh.  Fails on any failed step, any W=1 warning, and any
# WARNING:/BUG:/Oops/KASAN/"Call Trace" in the guest log.
#
#   run_kernel_test.sh --src DIR --work DIR --cache DIR --simd BIN
#                      --ktest BIN --conformance BIN --uapi BIN --qmx BIN [--mode test|bench]
#                      [--bench GUEST_BIN --host-bench HOST_BIN] [--seed N]
#                      [--fuzz-count N]
#
# --mode bench runs bench/kmod's program on kmod in the guest, then the same
# program on the in-process sim backend on the host, and prints both.
#
# Every wait is bounded; qmx-simd and QEMU are killed on any exit.
set -euo pipefail

SRC= WORK= CACHE= SIMD= KTEST= CONF= UAPI= BENCH= HOST_BENCH= MODE=test
SEED=${QMX_TEST_SEED:-20261127}
FUZZ_COUNT=5000
RAM_MB=512
QEMU_TIMEOUT=${QMX_KTEST_QEMU_TIMEOUT:-540}

while [ $# -gt 0 ]; do
	case "$1" in
	--src) SRC=$2 ;;
	--work) WORK=$2 ;;
	--cache) CACHE=$2 ;;
	--simd) SIMD=$2 ;;
	--ktest) KTEST=$2 ;;
	--conformance) CONF=$2 ;;
	--uapi) UAPI=$2 ;;
	--qmx) QMX_CLI=$2 ;;
	--bench) BENCH=$2 ;;
	--host-bench) HOST_BENCH=$2 ;;
	--mode) MODE=$2 ;;
	--seed) SEED=$2 ;;
	--fuzz-count) FUZZ_COUNT=$2 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
	shift 2
done

# A long fuzz run gets a second of guest time per thousand rounds.
QEMU_TIMEOUT=$((QEMU_TIMEOUT + FUZZ_COUNT / 1000))
T0=$(date +%s)
log() { printf '[kernel-test +%ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ -n "$SRC" ] && [ -n "$WORK" ] && [ -n "$CACHE" ] && [ -x "$SIMD" ] && [ -x "$KTEST" ] ||
	die "usage: --src --work --cache --simd --ktest are required (qmx-simd: '$SIMD', qmx_ktest: '$KTEST')"
[ "$MODE" = test ] && { [ -x "$CONF" ] || die "--conformance binary missing: '$CONF'"; }
[ "$MODE" = test ] && { [ -x "$UAPI" ] || die "--uapi binary missing: '$UAPI'"; }
[ "$MODE" = test ] && { [ -x "${QMX_CLI:-}" ] || die "--qmx binary missing: '${QMX_CLI:-}'"; }
[ "$MODE" = bench ] && { [ -x "$BENCH" ] || die "--bench binary missing: '$BENCH'"; }
for tool in qemu-system-x86_64 busybox cpio modinfo make dpkg-deb apt-get python3; do
	command -v "$tool" >/dev/null || die "$tool not found (tools/dev.sh deps test installs it)"
done

SIMD_PID= QEMU_PID= WATCH_PID=
RAM_FILE=/dev/shm/qmx-ktest-$$.ram
cleanup() {
	local pid
	for pid in $WATCH_PID $QEMU_PID $SIMD_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $QEMU_PID $SIMD_PID; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	[ -f "$WORK/simd2.pid" ] && kill -KILL "$(cat "$WORK/simd2.pid")" 2>/dev/null
	rm -f "$RAM_FILE"
}
trap cleanup EXIT
trap 'echo "FAIL: $0: line $LINENO: a command failed (status $?)" >&2' ERR
trap 'exit 130' INT TERM

mkdir -p "$WORK" "$CACHE"
WORK=$(cd "$WORK" && pwd) CACHE=$(cd "$CACHE" && pwd)
log "seed $SEED (QMX_TEST_SEED), work dir $WORK"

# ---------------------------------------------------------------- 1. qmx.ko
# The ABI comes from the headers installed under /usr/src, never from the
# running kernel (which may be anything: a container host, a CI VM).
KDIR=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' | sort -V | tail -n 1)
[ -n "$KDIR" ] || die "no /usr/src/linux-headers-*-amd64 (apt-get install linux-headers-amd64)"
ABI=${KDIR#/usr/src/linux-headers-}
log "kernel ABI $ABI (from $KDIR)"

# Kbuild builds in the module's source folder: build a copy that keeps the
# layout the driver's Kbuild refers to (../hw/regmap, ../tools/gen_regmap.py).
TREE=$WORK/tree
rm -rf "$TREE"
mkdir -p "$TREE/hw" "$TREE/tools"
# Sources only: an in-tree build of the driver may be running next to us.
mkdir -p "$TREE/driver"
cp "$SRC"/driver/Kbuild "$SRC"/driver/Makefile "$SRC"/driver/*.[ch] "$TREE/driver/"
cp -r "$SRC/driver/include" "$SRC/driver/scripts" "$TREE/driver/"
cp -r "$SRC/hw/regmap" "$SRC/hw/include" "$SRC/hw/energy" "$TREE/hw/"
cp "$SRC/tools/gen_regmap.py" "$SRC/tools/gen_energy_defaults.py" "$TREE/tools/"
log "building qmx.ko with W=1"
if ! timeout 600 make -C "$KDIR" M="$TREE/driver" W=1 -j"$(nproc)" modules \
	>"$WORK/kbuild.log" 2>&1; then
	cat "$WORK/kbuild.log"
	die "qmx.ko did not build against $ABI"
fi
if grep -qi 'warning:' "$WORK/kbuild.log"; then
	grep -i -B2 -A2 'warning:' "$WORK/kbuild.log"
	die "qmx.ko: W=1 build has warnings (above; full log $WORK/kbuild.log)"
fi
QMX_KO=$TREE/driver/qmx.ko
[ -f "$QMX_KO" ] || die "no qmx.ko after the build"

# ---------------------------------------------------------------- 2. the kernel
IMG=$CACHE/linux-image-$ABI
if [ ! -s "$IMG/vmlinux" ]; then
	rm -rf "$IMG"
	mkdir -p "$IMG/dl"
	log "fetching linux-image-$ABI from the Debian archive"
	if ! (cd "$IMG/dl" && timeout 600 apt-get download -q "linux-image-$ABI" >"$IMG/dl/apt.log" 2>&1); then
		cat "$IMG/dl/apt.log" >&2
		die "cannot download linux-image-$ABI with apt-get download (is the Debian archive reachable? is apt-get update done?); the kernel test needs Debian's own kernel of the headers' ABI"
	fi
	dpkg-deb -x "$IMG"/dl/linux-image-"$ABI"_*.deb "$IMG/root"
	# vmlinuz is a bzImage; QEMU boots the ELF inside through its PVH
	# entry note, which skips the real-mode setup and the decompressor.
	python3 - "$IMG/root/boot/vmlinuz-$ABI" "$IMG/vmlinux.tmp" <<'EOF'
import gzip, lzma, sys
data = open(sys.argv[1], 'rb').read()
for magic, unpack in ((b'\xfd7zXZ\x00', lambda b: lzma.LZMADecompressor().decompress(b)),
                      (b'\x1f\x8b\x08', lambda b: gzip.GzipFile(fileobj=__import__('io').BytesIO(b)).read())):
    at = data.find(magic)
    while at >= 0:
        try:
            out = unpack(data[at:])
        except Exception:
            out = b''
        if out[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(out)
            sys.exit(0)
        at = data.find(magic, at + 1)
sys.exit('no xz or gzip ELF payload in ' + sys.argv[1])
EOF
	mv "$IMG/vmlinux.tmp" "$IMG/vmlinux"
fi
MODDIR=$IMG/root/lib/modules/$ABI
[ -d "$MODDIR" ] || die "$MODDIR missing from linux-image-$ABI"

# ---------------------------------------------------------------- 3. initramfs
INITRD=$WORK/initramfs
rm -rf "$INITRD"
mkdir -p "$INITRD"/{bin,sbin,dev,proc,sys,tmp,lib/modules,lib64,usr/lib}
cp /bin/busybox "$INITRD/bin/busybox"
ln -s busybox "$INITRD/bin/sh"
install -m 0755 "$SRC/tests/kernel/guest/init.sh" "$INITRD/init"
install -m 0755 "$KTEST" "$INITRD/bin/qmx_ktest"
[ "$MODE" = test ] && install -m 0755 "$CONF" "$INITRD/bin/qmx_conformance"
[ "$MODE" = test ] && install -m 0755 "$UAPI" "$INITRD/bin/qmx_uapi_test"
# The qmx tool for the telemetry step, with the energy data it reads (the
# path compiled into the build tree's libqmx).
if [ "$MODE" = test ]; then
	install -m 0755 "$QMX_CLI" "$INITRD/bin/qmx_cli"
	install -m 0755 "$SRC/tests/kernel/guest/telemetry.sh" "$INITRD/bin/telemetry.sh"
	mkdir -p "$INITRD$SRC/hw"
	cp -r "$SRC/hw/energy" "$INITRD$SRC/hw/energy"
fi
[ "$MODE" = bench ] && install -m 0755 "$BENCH" "$INITRD/bin/qmx_bench_kmod"

# Dynamic binaries bring their libraries (the conformance suite links
# cmocka, which Debian ships only as a shared library).
for bin in "$INITRD"/bin/qmx_*; do
	for lib in $( (ldd "$bin" 2>/dev/null || true) | grep -o '/[^ ]*' || true); do
		mkdir -p "$INITRD$(dirname "$lib")"
		cp -L "$lib" "$INITRD$lib"
	done
done

# qmx.ko's dependencies from modinfo, recursively, dependencies first.
ORDER=()
find_ko() {
	local name=$1 alt
	alt=$(echo "$name" | tr '_-' '-_')
	find "$MODDIR/kernel" \( -name "$name.ko*" -o -name "$alt.ko*" \) | head -n 1
}
add_module() {
	local ko=$1 dep path m
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		path=$(find_ko "$dep")
		[ -n "$path" ] || die "module $dep (needed by $(basename "$ko")) not in linux-image-$ABI"
		add_module "$path"
	done
	m=$(basename "$ko")
	m=${m%.xz}
	m=${m%.zst}
	for seen in "${ORDER[@]}"; do
		[ "$seen" = "$m" ] && return 0
	done
	[ "$ko" = "$QMX_KO" ] && return 0
	case "$ko" in
	*.ko.xz) xz -dc "$ko" >"$INITRD/lib/modules/$m" ;;
	*.ko.zst) zstd -qdc "$ko" >"$INITRD/lib/modules/$m" ;;
	*) cp "$ko" "$INITRD/lib/modules/$m" ;;
	esac
	ORDER+=("$m")
}
add_module "$QMX_KO"
printf '%s\n' "${ORDER[@]}" >"$INITRD/lib/modules/load-order"
cp "$QMX_KO" "$INITRD/lib/modules/qmx.ko"
log "modules: ${ORDER[*]} qmx.ko"
(cd "$INITRD" && find . | cpio -o -H newc --quiet) >"$WORK/initramfs.cpio"

# ---------------------------------------------------------------- 4. qmx-simd
SOCK=$WORK/ivshmem.sock CTL=$WORK/control.sock QMP=$WORK/qmp.sock
CONSOLE=$WORK/console.log
rm -f "$WORK"/*.sock "$WORK"/simd*.log "$WORK/simd2.pid" "$CONSOLE"
# start_simd SOCKET CONTROL LOG: qmx-simd in the background, up within 10 s.
start_simd() {
	"$SIMD" --socket "$1" --control "$2" --ram "$RAM_FILE" --ram-size "${RAM_MB}M" \
		--log "$3" --max-seconds $((QEMU_TIMEOUT + 60)) &
	SIMD_PID=$!
	for _ in $(seq 100); do
		[ -S "$1" ] && [ -S "$2" ] && break
		kill -0 "$SIMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$1" ] || { cat "$3" >&2 || true; die "qmx-simd did not start (log above)"; }
}
start_simd "$SOCK" "$CTL" "$WORK/simd.log"
log "qmx-simd up (pid $SIMD_PID), booting $ABI under QEMU TCG"

# ---------------------------------------------------------------- 5. QEMU
# Tests run with SLUB's debugging on (F: sanity checks, Z: red zones, P:
# poison freed objects), so a use after free shows at once; the benchmark
# runs without it.
KCMDLINE_DEBUG=
[ "$MODE" = test ] && KCMDLINE_DEBUG="slub_debug=FZP"
# q35 with <= 2 GiB: guest RAM is one file whose offset = guest-physical
# address, mapped by qmx-simd too.  ttyS0: console; ttyS1: qmx-simd's
# control socket (fault injection from the guest).  No IOMMU.  An empty
# hotplug-capable root port takes the new device of the device-loss step
# (QMP, qmp_plug_ivshmem.py).
timeout -k 10 "$QEMU_TIMEOUT" qemu-system-x86_64 \
	-machine q35,accel=tcg,memory-backend=mem \
	-object memory-backend-file,id=mem,size=${RAM_MB}M,mem-path="$RAM_FILE",share=on \
	-m ${RAM_MB}M -smp 1 \
	-nodefaults -nographic -no-reboot -monitor none \
	-kernel "$IMG/vmlinux" -initrd "$WORK/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 loglevel=6 rdinit=/init $KCMDLINE_DEBUG qmx_seed=$SEED qmx_mode=$MODE qmx_fuzz=$FUZZ_COUNT" \
	-serial file:"$CONSOLE" -serial unix:"$CTL" \
	-qmp unix:"$QMP",server=on,wait=off \
	-chardev socket,id=ivsh,path="$SOCK" \
	-device ivshmem-doorbell,chardev=ivsh,vectors=1 \
	-device pcie-root-port,id=rp2,chassis=2,slot=2,pref64-reserve=32M \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	>"$WORK/qemu.log" 2>&1 &
QEMU_PID=$!
# The guest's device-loss step asks (console lines) for qmx-simd to die
# mid-job - SIGKILL, as a crash would - and then for a new device: a
# restarted qmx-simd behind a hot-plugged ivshmem device.
if [ "$MODE" = test ]; then
	(
		killed=
		for _ in $(seq $((QEMU_TIMEOUT * 5))); do
			if [ -z "$killed" ] && grep -q '^QMX-HOST: kill-simd' "$CONSOLE" 2>/dev/null; then
				kill -KILL "$SIMD_PID" 2>/dev/null
				echo "[kernel-test] qmx-simd (pid $SIMD_PID) killed at the guest's request" >&2
				killed=1
			fi
			if [ -n "$killed" ] && grep -q '^QMX-HOST: restart-simd' "$CONSOLE" 2>/dev/null; then
				start_simd "$WORK/ivshmem2.sock" "$WORK/control2.sock" "$WORK/simd2.log"
				echo "$SIMD_PID" >"$WORK/simd2.pid"
				echo "[kernel-test] qmx-simd restarted (pid $SIMD_PID); plugging in its device" >&2
				timeout 90 python3 "$SRC/tests/kernel/qmp_plug_ivshmem.py" "$QMP" \
					"$WORK/ivshmem2.sock" --timeout 60 >&2 ||
					echo "[kernel-test] FAIL: plugging in the new device failed" >&2
				exit 0
			fi
			sleep 0.2
		done
	) &
	WATCH_PID=$!
fi
rc=0
wait "$QEMU_PID" || rc=$?
QEMU_PID=
[ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true
log "QEMU exited with $rc"
# Stop qmx-simd now so its log ends with its totals.
kill -TERM "$SIMD_PID" 2>/dev/null || true
for _ in $(seq 50); do
	kill -0 "$SIMD_PID" 2>/dev/null || break
	sleep 0.1
done

# ---------------------------------------------------------------- 6. verdict
echo "----- guest console ($CONSOLE) -----"
cat "$CONSOLE" 2>/dev/null || true
echo "----- end of guest console -----"
echo "----- qmx-simd log -----"
tail -n 40 "$WORK/simd.log" 2>/dev/null || true
echo "----- QEMU -----"
cat "$WORK/qemu.log" 2>/dev/null || true

fail=0
if grep -nE 'WARNING:|BUG:|Oops|KASAN|Call Trace' "$CONSOLE"; then
	echo "FAIL: the guest kernel log has warnings, bugs or traces (above)"
	fail=1
fi
grep -E '^(<== step|ok:|FAIL:|bench)' "$CONSOLE" || true
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "FAIL: QEMU did not finish within ${QEMU_TIMEOUT}s"
	fail=1
elif [ "$rc" -ne 1 ]; then
	# isa-debug-exit: status = (guest code << 1) | 1; 1 means 0 failed steps.
	if [ $((rc & 1)) -eq 1 ]; then
		echo "FAIL: $((rc >> 1)) guest step(s) failed"
	else
		echo "FAIL: QEMU exited with $rc without the guest's verdict (panic or crash?)"
	fi
	fail=1
fi
grep -q 'QMX-GUEST-RESULT: 0' "$CONSOLE" || { echo "FAIL: no passing guest verdict"; fail=1; }
[ "$fail" -eq 0 ] || exit 1

if [ "$MODE" = bench ]; then
	guest=$(grep -E '^bench ' "$CONSOLE" | tail -n 1)
	[ -n "$guest" ] || die "no bench line from the guest"
	host=
	if [ -x "$HOST_BENCH" ]; then
		host=$(timeout 300 "$HOST_BENCH" --device sim | grep -E '^bench ') ||
			die "host sim bench failed"
	fi
	echo "===== kernel path (guest kmod, QEMU TCG) vs in-process sim (host) ====="
	echo "$guest"
	echo "$host"
	if [ -n "$host" ]; then
		# Ratios of the medians and of serial jobs/s, kernel path over in-process.
		printf '%s\n%s\n' "$guest" "$host" | awk '
			{ for (i = 1; i < NF; i++) v[NR, $i] = $(i + 1) }
			END { printf "kmod/sim: round trip x%.1f, jobs/s x%.3f, device cycles %s vs %s\n",
				v[1, "rt_median_us"] / v[2, "rt_median_us"],
				v[1, "jobs_per_s_serial"] / v[2, "jobs_per_s_serial"],
				v[1, "device_cycles"], v[2, "device_cycles"]
			      if (v[2, "batch_gemm_us"] > 0)
				printf "kmod/sim: per GEMM in batches of %s x%.1f (%s us vs %s us)\n",
					v[1, "batch"], v[1, "batch_gemm_us"] / v[2, "batch_gemm_us"],
					v[1, "batch_gemm_us"], v[2, "batch_gemm_us"] }'
	fi
	# Register accesses (qmx-simd counts them): the figure that carries to
	# a PCIe card, where each MMIO read is about a microsecond.
	grep -E '^mmio ' "$CONSOLE" || true
	echo "$guest" | awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
		END { if (v["mmio_per_job"] != "")
			printf "register accesses: %s per single job (target <= 4), %s per GEMM in batches of %s (target <= 0.5)\n",
				v["mmio_per_job"], v["mmio_per_gemm_batch"], v["batch"]
		      else print "register accesses: not reported (qmx-simd stats unreadable)" }'
	echo "$guest" | sed 's/^bench /guest: /' >"$WORK/bench.txt"
	echo "$host" | sed 's/^bench /host:  /' >>"$WORK/bench.txt"
fi
log "PASS"
