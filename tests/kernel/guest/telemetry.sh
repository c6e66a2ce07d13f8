#!/bin/sh
# SPDX-License-Identifier: MIT
# Guest step "telemetry": qmx exporter and qmx cdi against the real qmx.ko
# (the host tests use fixture trees, tests/telemetry).  The CDI spec names
# the node with the major:minor stat() reports; while a process runs jobs,
# the exporter's fdinfo sum of its client shows them; the hwmon energy rises.
Q=/bin/qmx_cli
NODE=$(ls /dev/accel/accel* 2>/dev/null | head -n 1)
[ -n "$NODE" ] || NODE=/dev/dri/renderD128
DEV="kmod:$NODE"
fail() { echo "telemetry: FAIL: $*"; exit 1; }

$Q cdi >/tmp/cdi.json || fail "qmx cdi exited $?"
maj=$((0x$(stat -c %t "$NODE"))) min=$((0x$(stat -c %T "$NODE")))
grep -q "\"path\": \"$NODE\", \"type\": \"c\", \"major\": $maj, \"minor\": $min" /tmp/cdi.json ||
	{ cat /tmp/cdi.json; fail "the CDI spec does not name $NODE as $maj:$min"; }
echo "telemetry: cdi names $NODE ($maj:$min)"

# metric NAME [LABEL]: this device's value of NAME (with LABEL, e.g.
# source="modelled") in one scrape; empty when absent.
metric() {
	$Q exporter --once | awk -v d="device=\"$DEV\"" -v n="$1" -v l="${2:-}" \
		'index($0, n "{") == 1 && index($0, d) && (l == "" || index($0, l)) { print $2; exit }'
}
e0=$(metric qmx_energy_joules_total 'source="modelled"')
[ -n "$e0" ] || fail "no hwmon energy for $DEV"

$Q gemm --device "$DEV" --shape 64x64x64 --repeat 1000 >/tmp/gemm.log 2>&1 &
pid=$!
# Until the running client shows jobs and the energy (whole µJ) has risen.
jobs=0 e1=$e0 i=0
while [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
	jobs=$(metric qmx_jobs_total)
	busy=$(metric qmx_busy_seconds_total) cycles=$(metric qmx_cycles_total)
	e1=$(metric qmx_energy_joules_total 'source="modelled"')
	[ "${jobs:-0}" -gt 0 ] && awk -v a="$e0" -v b="$e1" 'BEGIN { exit !(b > a) }' && break
	sleep 0.2
	i=$((i + 1))
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "${jobs:-0}" -le 0 ]; then
	cat /tmp/gemm.log
	$Q exporter --once | grep -v '^#'
	fail "fdinfo never showed the running client's jobs"
fi
awk -v b="$busy" -v c="$cycles" 'BEGIN { exit !(b > 0 && c > 0) }' ||
	fail "busy seconds '$busy' or cycles '$cycles' not > 0 with $jobs jobs done"
awk -v a="$e0" -v b="$e1" 'BEGIN { exit !(b > a) }' || fail "hwmon energy $e0 -> $e1 J did not rise"
echo "telemetry: $DEV: $jobs jobs, $busy s busy, $cycles cycles while running; energy $e0 -> $e1 J"
