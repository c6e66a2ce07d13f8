#!/usr/bin/env python3
"""Check that kernel.xml agrees with the register map and the generated C header.

Usage: check_kernel_xml.py REGMAP.toml KERNEL_XML [QMX_REGS_H]

Parses the three independently of tools/gen_kernel_xml.py and prints one line
per argument whose name, index, offset, size, port or address qualifier
differs; exits 1 when any does.  A drifted kernel.xml would make XRT write
our arguments into the wrong registers, so this is a test, not a lint.
"""
import re
import sys
import tomllib
import xml.etree.ElementTree as ET


def expected(regmap):
    with open(regmap, "rb") as f:
        m = tomllib.load(f)
    out = []
    for r in m["reg"]:
        a = r.get("arg")
        if a:
            ptr = a["type"].endswith("*")
            out.append({"reg": r["name"], "name": a["kernel_arg"], "id": len(out),
                        "offset": r["offset"], "size": r.get("width", 32) // 8,
                        "port": a["port"] if ptr else "s_axi_control",
                        "addressQualifier": 1 if ptr else 0})
    return out


def header_offsets(path):
    regs = {}
    with open(path) as f:
        for line in f:
            mt = re.match(r"#define QMX_REG_(\w+?)(_LO)? 0x([0-9A-Fa-f]+)u", line)
            if mt:
                regs[mt.group(1)] = int(mt.group(3), 16)
    return regs


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    want = expected(argv[1])
    errs = []
    try:
        root = ET.parse(argv[2]).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"FAIL: cannot parse {argv[2]}: {e}")
        return 1
    kernels = root.findall("kernel")
    if len(kernels) != 1:
        print(f"FAIL: {argv[2]} has {len(kernels)} <kernel> elements, expected 1")
        return 1
    k = kernels[0]
    if k.get("hwControlProtocol") != "ap_ctrl_hs":
        errs.append(f"hwControlProtocol is {k.get('hwControlProtocol')}, expected ap_ctrl_hs")
    ports = {p.get("name"): p for p in k.findall("ports/port")}
    have = {a.get("name"): a for a in k.findall("args/arg")}
    for w in want:
        got = have.pop(w["name"], None)
        if got is None:
            errs.append(f"argument '{w['name']}' ({w['reg']}): missing from kernel.xml")
            continue
        for key in ("id", "offset", "size", "port", "addressQualifier"):
            raw = got.get(key)
            try:
                val = raw if key == "port" else int(raw, 0)
            except (TypeError, ValueError):
                val = raw
            if val != w[key]:
                exp = f"0x{w[key]:X}" if key in ("offset", "size") else w[key]
                errs.append(f"argument '{w['name']}' ({w['reg']}): {key} is {raw} in "
                            f"kernel.xml, {exp} in the register map")
        if got.get("port") not in ports:
            errs.append(f"argument '{w['name']}': port {got.get('port')} is not declared in <ports>")
    for extra in have:
        errs.append(f"argument '{extra}': in kernel.xml but not in the register map")
    if len(argv) == 4:
        regs = header_offsets(argv[3])
        for w in want:
            if regs.get(w["reg"]) != w["offset"]:
                errs.append(f"register {w['reg']}: offset {regs.get(w['reg'])} in "
                            f"{argv[3]}, 0x{w['offset']:X} in the register map")
    for e in errs:
        print(f"FAIL: {e}")
    if errs:
        return 1
    print(f"ok: {len(want)} kernel arguments agree (register map, kernel.xml"
          f"{', C header' if len(argv) == 4 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
