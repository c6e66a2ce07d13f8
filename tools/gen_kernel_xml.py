#!/usr/bin/env python3
"""Generate the Vitis RTL kernel description (kernel.xml) from hw/regmap/qmx_regmap.toml.

Usage: gen_kernel_xml.py REGMAP.toml -o kernel.xml [--kernel qmx_top] [--gmem-data-bits 64]

Every register with an `arg` entry becomes one kernel argument, in register
order (that order is the argument index XRT and OpenCL use): pointers
(type ending in '*') are 8-byte global arguments on their AXI master port,
scalars are 4-byte arguments on s_axi_control.  Offsets are the register
offsets, so the control block XRT writes is exactly our register map.

tests/fpga/check_kernel_xml.py checks the result against the map (and the
generated C header) independently of this script.
"""
import argparse
import sys
import tomllib
import xml.etree.ElementTree as ET

BANNER = "generated from hw/regmap/qmx_regmap.toml by tools/gen_kernel_xml.py - do not edit"
CONTROL_PORT = "s_axi_control"


def load_args(path):
    """The kernel arguments of the register map: list of dicts, in index order."""
    with open(path, "rb") as f:
        m = tomllib.load(f)
    mp = m["map"]
    args = []
    for r in m["reg"]:
        a = r.get("arg")
        if not a:
            continue
        width = r.get("width", 32)
        pointer = a["type"].endswith("*")
        if pointer and width != 64:
            sys.exit(f"{r['name']}: pointer argument '{a['kernel_arg']}' must be a 64-bit register")
        if not pointer and width != 32:
            sys.exit(f"{r['name']}: scalar argument '{a['kernel_arg']}' must be a 32-bit register")
        if pointer and "port" not in a:
            sys.exit(f"{r['name']}: pointer argument '{a['kernel_arg']}' needs a port")
        args.append({
            "name": a["kernel_arg"],
            "id": len(args),
            "offset": r["offset"],
            "size": width // 8,
            "port": a["port"] if pointer else CONTROL_PORT,
            "addressQualifier": 1 if pointer else 0,
            "type": a["type"],
        })
    if not args:
        sys.exit(f"{path}: no register has an `arg` entry")
    return mp, args


def kernel_xml(mp, args, kernel, gmem_bits):
    root = ET.Element("root", versionMajor="1", versionMinor="6")
    k = ET.SubElement(root, "kernel", {
        "name": kernel,
        "language": "ip_c",
        "vlnv": f"qmx.dev:kernel:{kernel}:{mp['version_major']}.{mp['version_minor']}",
        "attributes": "",
        "preferredWorkGroupSizeMultiple": "0",
        "workGroupSize": "1",
        "interrupt": "true",
        "hwControlProtocol": "ap_ctrl_hs",
    })
    ports = ET.SubElement(k, "ports")
    ET.SubElement(ports, "port", {
        # Vivado's address editor assigns AXI4-Lite slaves at least 4 KiB.
        "name": CONTROL_PORT, "mode": "slave",
        "range": f"0x{max(0x1000, 1 << mp['address_bits']):X}",
        "dataWidth": str(mp["data_bits"]), "portType": "addressable", "base": "0x0",
    })
    masters = []
    for a in args:
        if a["port"] != CONTROL_PORT and a["port"] not in masters:
            masters.append(a["port"])
    for p in masters:
        ET.SubElement(ports, "port", {
            "name": p, "mode": "master", "range": "0xFFFFFFFFFFFFFFFF",
            "dataWidth": str(gmem_bits), "portType": "addressable", "base": "0x0",
        })
    xargs = ET.SubElement(k, "args")
    for a in args:
        ET.SubElement(xargs, "arg", {
            "name": a["name"],
            "addressQualifier": str(a["addressQualifier"]),
            "id": str(a["id"]),
            "port": a["port"],
            "size": f"0x{a['size']:X}",
            "offset": f"0x{a['offset']:X}",
            "type": a["type"],
            "hostOffset": "0x0",
            "hostSize": f"0x{a['size']:X}",
        })
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {BANNER} -->\n{body}\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("regmap")
    ap.add_argument("-o", "--output", required=True, help="write kernel.xml here")
    ap.add_argument("--kernel", default="qmx_top", help="kernel (RTL top) name")
    ap.add_argument("--gmem-data-bits", type=int, default=64,
                    help="data width of the AXI master port(s) in bits")
    o = ap.parse_args()
    mp, args = load_args(o.regmap)
    with open(o.output, "w") as f:
        f.write(kernel_xml(mp, args, o.kernel, o.gmem_data_bits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
