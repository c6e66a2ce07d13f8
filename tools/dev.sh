#!/usr/bin/env bash
# tools/dev.sh - set up a Debian 12 machine and build, demo or test qmx.
#
#   tools/dev.sh demo   install what the build needs, build, run `qmx compare`
#                       on the simulated accelerator (the README's first command)
#   tools/dev.sh test   install everything the tests need, build with -Werror,
#                       run every test with ctest (the README's second command)
#   tools/dev.sh deps [demo|test]   only install the Debian packages
#   tools/dev.sh build  only configure and build (build/)
#
# Environment: BUILD_DIR (default build), QMX_JOBS (default nproc),
# CMAKE_ARGS (extra configure arguments).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
JOBS=${QMX_JOBS:-$(nproc)}

# Debian 12 packages.  Build (every backend: libdrm for kmod, the OpenCL ICD
# loader for opencl, oneDNN for onednn), the simulated accelerator, and
# libmicrohttpd for the /metrics server of `qmx exporter`:
PKGS_DEMO=(build-essential cmake pkg-config python3 verilator zlib1g-dev
	libdrm-dev ocl-icd-opencl-dev opencl-c-headers libjansson-dev libdnnl-dev
	libmicrohttpd-dev)
# Everything the test suite uses on top: unit tests, peers for benchmarks,
# synthesis, the kernel test (headers, QEMU, busybox), OpenCL on PoCL, Python,
# the telemetry tests (a Prometheus server; the CDI project's JSON schema).
PKGS_TEST=(libcmocka-dev valgrind yosys libopenblas-dev
	clang tcl linux-headers-amd64 qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	pocl-opencl-icd librsvg2-bin
	prometheus python3-jsonschema golang-github-container-orchestrated-devices-container-device-interface-dev
	python3-numpy python3-pytest python3-sklearn python3-torch python3-pip python3-venv)

# Slow checks carry one of these ctest labels and run only when asked for,
# e.g. `ctest --test-dir build -L full` (README, "Tests").
SLOW_LABELS='^(full|fuzz-long|coverage|coverage-all|synth-large)$'

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "Debian packages: all ${#@} present"
		return
	fi
	log "Installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
}

deps() {
	case "${1:-test}" in
	demo) install_packages "${PKGS_DEMO[@]}" ;;
	test) install_packages "${PKGS_DEMO[@]}" "${PKGS_TEST[@]}" ;;
	*) echo "deps: unknown set '$1' (demo|test)" >&2; exit 2 ;;
	esac
}

build() {
	log "Configuring in $BUILD_DIR"
	# shellcheck disable=SC2086
	cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} "$@"
	log "Building with $JOBS jobs"
	cmake --build "$BUILD_DIR" -j "$JOBS"
}

case "${1:-}" in
deps) deps "${2:-test}" ;;
build) shift; build "$@" ;;
demo)
	deps demo
	build -DBUILD_TESTING=OFF -DQMX_BUILD_BENCH=OFF
	log "Running: qmx compare (default device: the simulated accelerator)"
	cd "$ROOT"
	"$BUILD_DIR/tools/qmx" compare
	;;
test)
	deps test
	build -DQMX_WERROR=ON -DBUILD_TESTING=ON -DQMX_BUILD_BENCH=ON
	log "Running every test (the quick set; slow labels: $SLOW_LABELS)"
	cd "$BUILD_DIR"
	ctest --output-on-failure --timeout 1800 -j "$JOBS" -LE "$SLOW_LABELS"
	;;
*)
	sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
