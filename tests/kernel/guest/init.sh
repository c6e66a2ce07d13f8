#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the kernel-test guest: load the DRM helpers and qmx.ko, bind the
# ivshmem device to qmx, run the steps (qmx_mode=test) or the benchmark
# (qmx_mode=bench), then leave QEMU through isa-debug-exit with the number
# of failed steps (0 = pass).  Every step is bounded by `timeout`.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin LD_LIBRARY_PATH=/lib:/lib64:/usr/lib
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

SEED=${qmx_seed:-20261127}
# ioctl-fuzzer rounds: a quick run by default, >= 10^6 in the fuzz-long test.
FUZZ=${qmx_fuzz:-5000}
FUZZ_SECS=$((300 + FUZZ / 1000))
MODE=${qmx_mode:-test}
FAILED=0
echo "qmx guest: mode $MODE seed $SEED kernel $(uname -r)"

bye() {
	echo "qmx guest: $FAILED failed step(s)"
	echo "QMX-GUEST-RESULT: $FAILED"
	sync
	/bin/qmx_ktest exit "$FAILED"
	poweroff -f
}

# step NAME SECONDS CMD...: run CMD bounded, record the outcome.
step() {
	name=$1 secs=$2
	shift 2
	echo "==> step $name"
	if timeout "$secs" "$@"; then
		echo "<== step $name: ok"
	else
		echo "<== step $name: FAILED (status $?)"
		FAILED=$((FAILED + 1))
	fi
}

for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || { echo "insmod $m failed"; FAILED=$((FAILED + 1)); bye; }
done
# The backend's errors say what is missing: first the module, then a device.
step nodev-unloaded 30 /bin/qmx_ktest nodev "not loaded"
# Memory limits small enough for qmx_ktest pinlimit (and the fuzzer) to reach;
# a 16-entry command queue so that a few small batches lap it and fill it
# (the benchmark keeps the default ring).
CQ=cq_entries=16
# Job timeout: the hang steps wait for it (twice in cq-hangbatch), and the
# conformance step's largest job (520x515x280, ~1.2 M cycles on the 8x8 model)
# must stay well inside it when the host runs other tests beside the guest.
JOB_TIMEOUT_MS=8000
[ "$MODE" = bench ] && CQ=
insmod /lib/modules/qmx.ko job_timeout_ms=$JOB_TIMEOUT_MS pin_limit_mb=96 file_pin_limit_mb=64 file_bo_limit_mb=192 $CQ ||
	{ echo "insmod qmx.ko failed"; FAILED=$((FAILED + 1)); bye; }
step nodev-unbound 30 /bin/qmx_ktest nodev "no device is bound"

# The ivshmem-doorbell device (1af4:1110): qmx's ID tables never claim it,
# so bind it by hand to the cosim PCI driver (qmx_cosim).
BDF=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
		BDF=${d##*/}
	fi
done
[ -n "$BDF" ] || { echo "no ivshmem device"; FAILED=$((FAILED + 1)); bye; }
echo qmx_cosim > "/sys/bus/pci/devices/$BDF/driver_override"
echo "$BDF" > /sys/bus/pci/drivers_probe
# An accel node on kernels with DRIVER_COMPUTE_ACCEL (>= 6.2), else a
# render node (6.1, the kernel booted here).
node() {
	for n in /dev/accel/accel0 /dev/dri/renderD128; do
		[ -e "$n" ] && { echo "$n"; return 0; }
	done
	return 1
}
i=0
while ! node >/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if ! node >/dev/null; then
	echo "qmx did not bind $BDF; PCI drivers: $(ls /sys/bus/pci/drivers | tr '\n' ' ')"
	dmesg | tail -n 20
	FAILED=$((FAILED + 1))
	bye
fi
echo "qmx bound to $BDF: $(node) ($(ls /dev/dri /dev/accel 2>/dev/null | tr '\n' ' '))"

if [ "$MODE" = bench ]; then
	step bench 300 /bin/qmx_bench_kmod --device kmod --mmio-tty /dev/ttyS1
else
	step gemm 120 /bin/qmx_ktest gemm --seed "$SEED"
	step badinput 120 /bin/qmx_ktest badinput
	step uapi 120 /bin/qmx_uapi_test
	step cq-ring 180 /bin/qmx_ktest ring --seed "$SEED"
	step cq-badbatch 120 /bin/qmx_ktest badbatch --seed "$SEED"
	step cq-failforget 120 /bin/qmx_ktest failforget --seed "$SEED"
	step fuzz "$FUZZ_SECS" /bin/qmx_ktest fuzz --count "$FUZZ" --seed "$SEED"
	# After the fuzzer: the device must still be exact.
	step conformance 300 /bin/qmx_conformance --device kmod --quick --seed "$SEED"
	step telemetry 120 sh /bin/telemetry.sh
	step multiproc 180 /bin/qmx_ktest multiproc --seed "$SEED"
	step kill 180 /bin/qmx_ktest kill
	step cq-killbatch 180 /bin/qmx_ktest killbatch --seed "$SEED"
	step closeloop 180 /bin/qmx_ktest closeloop
	step closeloop-reader 180 /bin/qmx_ktest closeloop --reader
	step pinlimit 180 /bin/qmx_ktest pinlimit
	step fault-hang 120 /bin/qmx_ktest fault hang --seed "$SEED"
	step fault-axi 120 /bin/qmx_ktest fault axi --seed "$SEED"
	step cq-hangbatch 120 /bin/qmx_ktest hangbatch --seed "$SEED"
	step unbind 120 /bin/qmx_ktest unbind "$BDF" --seed "$SEED"
	# Last: the host kills qmx-simd, then restarts it behind a new device.
	step lost 240 /bin/qmx_ktest lost "$BDF" --seed "$SEED"
fi
echo "interrupts: $(grep -i qmx /proc/interrupts)"
step rmmod 60 rmmod qmx
bye
