#!/usr/bin/env python3
"""Dry run of hw/fpga/package_xo.tcl under tclsh with Vivado stubbed
(vivado_stub.tcl): the script must hand Vivado our RTL, the generated
includes, the requested parameters and kernel.xml, and refuse a kernel.xml
whose AXI master width differs from AXI_DATA_WIDTH, word for word.
Vivado itself is not run (not available here).

Usage: test_package_xo.py TCLSH SOURCE_DIR KERNEL_XML GEN_INCLUDE_DIR WORK_DIR
"""
import os
import subprocess
import sys


def dry_run(tclsh, src, work, xml, inc, *params):
    log = os.path.join(work, "vivado.log")
    p = subprocess.run([tclsh, os.path.join(src, "tests/fpga/vivado_stub.tcl"), log,
                        os.path.join(src, "hw/fpga/package_xo.tcl"), os.path.join(work, "out"),
                        xml, os.path.join(src, "hw/rtl"), inc, *params],
                       capture_output=True, text=True)
    with open(log) as f:
        calls = f.read().splitlines()
    return p.returncode, p.stdout.strip(), calls


def main(tclsh, src, xml, inc, work):
    os.makedirs(work, exist_ok=True)
    bad = []
    rc, out, calls = dry_run(tclsh, src, work, xml, inc, "ARRAY_ROWS=16", "ARRAY_COLS=16")
    out_dir = os.path.join(work, "out")
    want = [
        f"set_property top qmx_top sources_1",
        f"set_property value 64 hdl_AXI_DATA_WIDTH",
        f"set_property value 16 hdl_ARRAY_ROWS",
        f"set_property value 16 hdl_ARRAY_COLS",
        f"ipx::associate_bus_interfaces -busif s_axi_control -clock ap_clk core",
        f"ipx::associate_bus_interfaces -busif m_axi_gmem -clock ap_clk core",
        f"set_property sdx_kernel true core",
        f"set_property sdx_kernel_type rtl core",
        f"package_xo -xo_path {out_dir}/qmx_top.xo -kernel_name qmx_top "
        f"-ip_directory {out_dir}/ip_qmx_top -kernel_xml {xml}",
        "exit 0",
    ]
    if rc != 0:
        bad.append(f"dry run failed (rc {rc}): {out}")
    for w in want:
        if w not in calls:
            bad.append(f"missing Vivado call: {w}")
    adds = [c for c in calls if c.startswith("add_files")]
    if not any("qmx_top.v" in c for c in adds) or not any(f"{inc}/qmx_regs.vh" in c for c in adds):
        bad.append(f"RTL or generated include not added: {adds}")

    rc, out, calls = dry_run(tclsh, src, work, xml, inc, "AXI_DATA_WIDTH=512")
    want_err = (f"ERROR: {xml} has m_axi_gmem dataWidth=64 but AXI_DATA_WIDTH=512: "
                f"regenerate it with gen_kernel_xml.py --gmem-data-bits 512")
    if rc != 1 or out != want_err or any(c.startswith("create_project") for c in calls):
        bad.append(f"width mismatch: rc {rc}, output {out!r}, expected rc 1 and {want_err!r}")

    rc, out, calls = dry_run(tclsh, src, work, xml, inc, "NOT_A_PARAM=1")
    if rc != 1 or out != "ERROR: qmx_top has no parameter NOT_A_PARAM":
        bad.append(f"unknown parameter: rc {rc}, output {out!r}")

    for b in bad:
        print(f"FAIL: {b}")
    if not bad:
        print("ok: package_xo.tcl dry run (Vivado stubbed) hands over RTL, parameters and kernel.xml")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
