#!/usr/bin/env bash
# test_cli.sh QMX - the qmx tool refuses bad command lines with one line that
# names the problem (exit 2), and writes reports atomically.
set -u
QMX=$1
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_error "<stderr text>" args...: exit 2 (a bad command line; RC=1 for
# a device that cannot open), exactly one line on stderr containing the text,
# nothing on stdout.
expect_error() {
	local want=$1 want_rc=${RC:-2}
	shift
	"$QMX" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$? lines
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" -ne "$want_rc" ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$tmp/err" ||
		[ -s "$tmp/out" ]; then
		echo "FAIL: qmx $* -> exit $rc, stderr ($lines lines): $(head -c 400 "$tmp/err")"
		echo "      expected exit $want_rc and one line containing: $want"
		failures=$((failures + 1))
	else
		echo "ok: qmx $* -> $(cat "$tmp/err")"
	fi
}

expect_error "qmx gemm: --device needs a device URI" gemm --device ""
expect_error "qmx gemm: --device needs a device URI" gemm --device=
expect_error "qmx compare: --baseline needs a device URI" compare --baseline "" --no-files
expect_error "qmx devices: unexpected argument 'extra' (see qmx devices --help)" devices --json extra
expect_error "qmx gemm: unexpected argument 'stray'" gemm --m 4 --n 4 --k 4 --device cpu-ref stray
expect_error "qmx compare: unexpected argument 'x'" compare --no-files x
expect_error "qmx gemm: unknown option '--bogus' (see qmx gemm --help)" gemm --bogus
expect_error "qmx devices: unknown option '-x' (see qmx devices --help)" devices -x
expect_error "qmx compare: unknown option '--nope=3'" compare --nope=3
expect_error "qmx gemm: option '--m' needs a value (see qmx gemm --help)" gemm --m
expect_error "qmx schedule: unknown option '--bogus' (see qmx schedule --help)" schedule --bogus
expect_error "qmx schedule: unexpected argument 'stray'" schedule --grid x.csv stray
expect_error "qmx schedule: --duration '0' must be hours in (0, 8784]" schedule --duration 0
expect_error "qmx compare: --pue '5' must be a ratio in [1, 3]" compare --pue 5 --no-files
expect_error "qmx compare: --start needs --grid-trace" compare --start 2023-03-13T12:00Z --no-files
expect_error "qmx exporter: --textfile 'metrics.txt' must name a file ending in .prom" exporter --textfile metrics.txt
expect_error "qmx exporter: --interval '0' must be an integer in [1, 86400]" exporter --textfile x.prom --interval 0
expect_error "qmx exporter: --interval is the --textfile period: give --textfile too" exporter --interval 5
expect_error "qmx exporter: --once writes the metrics and exits: it takes no --listen" exporter --once --listen 127.0.0.1:0
expect_error "qmx exporter: --listen '127.0.0.1' must be ADDRESS:PORT" exporter --listen 127.0.0.1
expect_error "qmx exporter: --listen 'localhost:9840': 'localhost' is not a numeric IPv4 or [IPv6] address" exporter --listen localhost:9840
expect_error "qmx exporter: --listen '127.0.0.1:70000': port '70000' must be an integer in [0, 65535]" exporter --listen 127.0.0.1:70000
expect_error "qmx exporter: --journal needs a file name" exporter --journal ""
expect_error "qmx exporter: unknown option '--bogus' (see qmx exporter --help)" exporter --bogus
expect_error "qmx exporter: unexpected argument 'stray'" exporter --once stray
RC=1 expect_error "qmx exporter: --textfile '$tmp/nodir/q.prom': No such file or directory" exporter --once --textfile "$tmp/nodir/q.prom"
expect_error "qmx cdi: option '--output' needs a value (see qmx cdi --help)" cdi --output
expect_error "qmx cdi: --output needs a file name" cdi --output ""
expect_error "qmx cdi: unexpected argument 'x'" cdi x
RC=1 QMX_SYSFS_ROOT=$tmp expect_error "qmx cdi: no accel or render node bound to qmx.ko under $tmp/class/{accel,drm}" cdi
if "$QMX" devices | grep -q '^sim'; then
	# Negative and garbage array sizes are named as such, not wrapped.
	RC=1 expect_error "sim device: '-8x-8' is not an array size RxC, rows and columns integers in [1, 1024]" \
		gemm --device sim:-8x-8 --m 4 --n 4 --k 4
	RC=1 expect_error "sim device: '8x8x' is not an array size RxC" gemm --device sim:8x8x --m 4 --n 4 --k 4
	RC=1 expect_error "sim device: '0x8' is not an array size RxC" gemm --device sim:0x8 --m 4 --n 4 --k 4
fi

# Reports are written to a temporary file and renamed: a write that fails
# part-way (here: a 4 KiB file-size limit, SIGXFSZ ignored) leaves the
# previous report whole and no temporary file behind.
mkdir "$tmp/rep"
printf '{"previous": true}\n' >"$tmp/rep/report.json"
(
	trap '' XFSZ
	ulimit -f 4
	exec "$QMX" compare --device cpu-ref --workloads small --out "$tmp/rep"
) >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "writing $tmp/rep/report.json" "$tmp/err"; then
	echo "FAIL: compare under a 4 KiB file limit: exit $rc, stderr: $(cat "$tmp/err")"
	failures=$((failures + 1))
elif [ "$(cat "$tmp/rep/report.json")" != '{"previous": true}' ]; then
	echo "FAIL: report.json was replaced by a partial file ($(wc -c <"$tmp/rep/report.json") bytes)"
	failures=$((failures + 1))
elif ls "$tmp/rep" | grep -q 'XXXXXX\|\.json\.'; then
	echo "FAIL: a temporary file was left behind: $(ls "$tmp/rep")"
	failures=$((failures + 1))
else
	echo "ok: a report that cannot be written whole leaves the previous one ($(ls "$tmp/rep" | tr '\n' ' '))"
fi
# ... and one that can is complete and readable like any new file.
"$QMX" compare --device cpu-ref --workloads small --out "$tmp/rep" >/dev/null 2>&1
if ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/rep/report.json" ||
	[ "$(stat -c %a "$tmp/rep/report.json")" != "$(printf '%o' $((0666 & ~$(umask))))" ]; then
	echo "FAIL: report.json after a normal run: $(stat -c '%a %s' "$tmp/rep/report.json")"
	failures=$((failures + 1))
else
	echo "ok: report.json written whole, mode $(stat -c %a "$tmp/rep/report.json")"
fi

echo "test_cli: $failures failure(s)"
[ "$failures" -eq 0 ]
