#!/bin/sh
# SPDX-License-Identifier: MIT
# pip_venv_test.sh PYTHON SRC WORK LIBQMX - install the qmx package offline
# into a fresh venv that sees Debian's site-packages, then import qmx.torch
# and run one int8 GEMM through it.  Exit 77 (skipped) without venv support
# (Debian package python3.11-venv).
set -eu
py=$1 src=$2 work=$3 lib=$4
if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
	echo "SKIP: $py has no venv/ensurepip (apt-get install python3.11-venv)"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work"
# Build from a copy: an in-tree pip build would leave build/ and *.egg-info
# in the source tree.
cp -r "$src" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info
"$py" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --no-build-isolation --no-index \
	--disable-pip-version-check "$work/src"
cd "$work"
QMX_LIBRARY=$lib PYTHONPATH= "$work/venv/bin/python" - <<'PY'
import numpy as np
import qmx
import qmx.torch

assert "/venv/" in qmx.__file__, qmx.__file__
with qmx.Device("cpu") as dev:
    a = np.arange(6, dtype=np.int8).reshape(2, 3)
    b = np.ones((3, 2), dtype=np.int8)
    c = qmx.gemm(dev, a, b)
    assert c.tolist() == [[3, 3], [12, 12]], c
print("installed", qmx.__file__, "- qmx.torch.QLinear:", qmx.torch.QLinear)
PY
rm -rf "$work"
