#!/usr/bin/env python3
"""Generate the register-map header (C) and include (Verilog) from hw/regmap/qmx_regmap.toml.

Usage: gen_regmap.py REGMAP.toml --c OUT.h --verilog OUT.vh

The C header is kernel-safe (no libc, plain integer macros) so the driver, the
runtime and the simulator include the same file.
"""
import argparse
import sys
import tomllib

BANNER = "generated from hw/regmap/qmx_regmap.toml by tools/gen_regmap.py - do not edit"


def load(path):
    with open(path, "rb") as f:
        m = tomllib.load(f)
    regs = m["reg"]
    seen = {}
    for r in regs:
        r.setdefault("width", 32)
        r.setdefault("fields", [])
        r.setdefault("values", [])
        if r["offset"] % 4:
            sys.exit(f"{r['name']}: offset {r['offset']:#x} not word aligned")
        words = [r["offset"] + 4 * i for i in range(r["width"] // 32)]
        for w in words:
            if w in seen:
                sys.exit(f"{r['name']}: offset {w:#x} overlaps {seen[w]}")
            if w >= 1 << m["map"]["address_bits"]:
                sys.exit(f"{r['name']}: offset {w:#x} outside the register window")
            seen[w] = r["name"]
        for f in r["fields"]:
            f.setdefault("lsb", f.get("bit", 0))
            f.setdefault("width", 1)
    layouts = {}
    cq = m.get("cq", {})
    for key, prefix in (("cq_desc", "CQD"), ("cq_cpl", "CQC")):
        if key in m:
            layouts[prefix] = check_layout(key, m[key], cq["entry_bytes"])
    return m["map"], regs, cq, layouts


TYPES = {"u32": ("uint32_t", 4), "i32": ("int32_t", 4), "u64": ("uint64_t", 8)}


def check_layout(key, fields, size):
    """Fields must tile the entry exactly, each naturally aligned."""
    at = 0
    for f in fields:
        f.setdefault("fields", [])
        f.setdefault("values", [])
        f.setdefault("count", 1)
        ctype, nbytes = TYPES[f["type"]]
        f["bytes"] = nbytes * f["count"]
        if f["offset"] != at or f["offset"] % nbytes:
            sys.exit(f"{key}.{f['name']}: offset {f['offset']} (expected {at}, {nbytes}-byte aligned)")
        at += f["bytes"]
        for b in f["fields"]:
            b.setdefault("width", 1)
    if at != size:
        sys.exit(f"{key}: fields cover {at} bytes, entry is {size}")
    return fields


def c_layouts(cq, layouts):
    if not layouts:
        return []
    out = [
        "/* Command-queue descriptor and completion record ([[cq_desc]], [[cq_cpl]]),",
        " * little-endian in device memory. */",
        "#ifdef __KERNEL__",
        "#include <linux/types.h>",
        "#else",
        "#include <stdint.h>",
        "#endif",
        "",
        f"#define QMX_CQ_ENTRY_BYTES {cq['entry_bytes']}u",
        f"#define QMX_CQ_SIZE_MIN {cq['size_min']}u",
        f"#define QMX_CQ_SIZE_MAX {cq['size_max']}u",
        "",
    ]
    structs = {"CQD": "qmx_cq_desc", "CQC": "qmx_cq_cpl"}
    for prefix, fields in layouts.items():
        for f in fields:
            n = f"QMX_{prefix}_{f['name']}"
            out.append(f"#define {n}_OFF {f['offset']}u /* {f['type']}: {f['doc']} */")
            for b in f["fields"]:
                mask = ((1 << b["width"]) - 1) << b["lsb"]
                if b["width"] == 1:
                    out.append(f"#define {n}_{b['name']} 0x{mask:08X}u /* {b['doc']} */")
                else:
                    out.append(f"#define {n}_{b['name']}_SHIFT {b['lsb']}u")
                    out.append(f"#define {n}_{b['name']}_MASK 0x{mask:08X}u /* {b['doc']} */")
            for v in f["values"]:
                out.append(f"#define {n}_{v['name']} {v['value']}u /* {v['doc']} */")
        out.append("")
    for prefix, fields in layouts.items():
        st = structs[prefix]
        out.append(f"struct {st} {{")
        for f in fields:
            ctype = TYPES[f["type"]][0]
            arr = f"[{f['count']}]" if f["count"] > 1 else ""
            out.append(f"	{ctype} {f['name'].lower()}{arr}; /* {f['offset']}: {f['doc']} */")
        out.append("} __attribute__((packed, aligned(8)));")
        out.append("")
    out.append("#ifdef __cplusplus")
    out.append("#define QMX_REGS_STATIC_ASSERT static_assert")
    out.append("#else")
    out.append("#define QMX_REGS_STATIC_ASSERT _Static_assert")
    out.append("#endif")
    for prefix, fields in layouts.items():
        st = structs[prefix]
        out.append(f"QMX_REGS_STATIC_ASSERT(sizeof(struct {st}) == QMX_CQ_ENTRY_BYTES, \"{st} size\");")
        for f in fields:
            out.append(f"QMX_REGS_STATIC_ASSERT(__builtin_offsetof(struct {st}, {f['name'].lower()}) == "
                       f"QMX_{prefix}_{f['name']}_OFF, \"{st}.{f['name'].lower()}\");")
    out.append("")
    return out


def verilog_layouts(cq, layouts):
    if not layouts:
        return []
    out = ["// Command-queue descriptor / completion record byte offsets",
           f"`define QMX_CQ_ENTRY_BYTES {cq['entry_bytes']}",
           f"`define QMX_CQ_SIZE_MIN {cq['size_min']}",
           f"`define QMX_CQ_SIZE_MAX {cq['size_max']}"]
    for prefix, fields in layouts.items():
        for f in fields:
            n = f"QMX_{prefix}_{f['name']}"
            out.append(f"`define {n}_OFF {f['offset']}")
            for b in f["fields"]:
                if b["width"] == 1:
                    out.append(f"`define {n}_{b['name']}_BIT {b['lsb']}")
                else:
                    out.append(f"`define {n}_{b['name']}_LSB {b['lsb']}")
                    out.append(f"`define {n}_{b['name']}_WIDTH {b['width']}")
            for v in f["values"]:
                out.append(f"`define {n}_{v['name']} {v['value']}")
    out.append("")
    return out


def c_header(mp, regs, cq, layouts):
    out = [f"/* {BANNER} */", "#ifndef QMX_REGS_H", "#define QMX_REGS_H", ""]
    ver = (mp["version_major"] << 16) | mp["version_minor"]
    out += [
        f"#define QMX_MAP_MAGIC 0x{mp['magic']:08X}u",
        f"#define QMX_MAP_VERSION_MAJOR {mp['version_major']}u",
        f"#define QMX_MAP_VERSION_MINOR {mp['version_minor']}u",
        f"#define QMX_MAP_VERSION 0x{ver:08X}u",
        f"#define QMX_MAP_SIZE 0x{1 << mp['address_bits']:X}u",
        "",
    ]
    for r in regs:
        n, off = r["name"], r["offset"]
        out.append(f"/* {n}: {r['doc']} ({r['access']}) */")
        if r["width"] == 64:
            out.append(f"#define QMX_REG_{n}_LO 0x{off:03X}u")
            out.append(f"#define QMX_REG_{n}_HI 0x{off + 4:03X}u")
        else:
            out.append(f"#define QMX_REG_{n} 0x{off:03X}u")
        for f in r["fields"]:
            mask = ((1 << f["width"]) - 1) << f["lsb"]
            if f["width"] == 1:
                out.append(f"#define QMX_{n}_{f['name']} 0x{mask:08X}u /* {f['doc']} */")
            else:
                out.append(f"#define QMX_{n}_{f['name']}_SHIFT {f['lsb']}u")
                out.append(f"#define QMX_{n}_{f['name']}_MASK 0x{mask:08X}u /* {f['doc']} */")
        for v in r["values"]:
            lit = f"0x{v['value']:08X}u" if v.get("bits", 8) > 8 else f"{v['value']}u"
            out.append(f"#define QMX_{n}_{v['name']} {lit} /* {v['doc']} */")
        out.append("")
    # Kernel arguments (Vitis RTL kernel, hw/fpga/kernel.xml): registers with
    # an `arg` entry, in map order, pointers first.
    args = [r for r in regs if "arg" in r]
    ptrs = [r for r in args if r["arg"]["type"].endswith("*")]
    if args[: len(ptrs)] != ptrs:
        sys.exit("kernel arguments: pointers must come before scalars in the map")
    out.append("/* X(name, register) for every kernel argument, in kernel.xml order:")
    out.append(" * pointers (their _LO register) first, then scalars */")
    out.append("#define QMX_KARG_LIST(X) \\")
    for r in args:
        reg = f"QMX_REG_{r['name']}_LO" if r["width"] == 64 else f"QMX_REG_{r['name']}"
        out.append(f"\tX({r['arg']['kernel_arg'].upper()}, {reg}) \\")
    out.append("")
    out.append(f"#define QMX_KARG_POINTER_COUNT {len(ptrs)}")
    out.append("")
    # X-macro lists for dumps (debugfs, qmx devices --regs) and error names.
    out.append("/* X(name, offset, width_bits) for every register */")
    out.append("#define QMX_REG_LIST(X) \\")
    out += [f"\tX({r['name']}, 0x{r['offset']:03X}u, {r['width']}) \\" for r in regs]
    out.append("")
    err = next(r for r in regs if r["name"] == "ERROR")
    out.append("/* X(name, value, description) for ERROR register codes */")
    out.append("#define QMX_HW_ERROR_LIST(X) \\")
    out += [f"\tX({v['name']}, {v['value']}u, \"{v['doc']}\") \\" for v in err["values"]]
    out.append("")
    out += c_layouts(cq, layouts)
    out += ["#endif /* QMX_REGS_H */", ""]
    return "\n".join(out)


def verilog_include(mp, regs, cq, layouts):
    ab = mp["address_bits"]
    ver = (mp["version_major"] << 16) | mp["version_minor"]
    out = [f"// {BANNER}", "`ifndef QMX_REGS_VH", "`define QMX_REGS_VH", ""]
    out += [
        f"`define QMX_MAP_MAGIC 32'h{mp['magic']:08X}",
        f"`define QMX_MAP_VERSION 32'h{ver:08X}",
        f"`define QMX_MAP_ADDR_BITS {ab}",
        "",
    ]
    for r in regs:
        n, off = r["name"], r["offset"]
        out.append(f"// {n}: {r['doc']} ({r['access']})")
        if r["width"] == 64:
            out.append(f"`define QMX_REG_{n}_LO {ab}'h{off:03X}")
            out.append(f"`define QMX_REG_{n}_HI {ab}'h{off + 4:03X}")
        else:
            out.append(f"`define QMX_REG_{n} {ab}'h{off:03X}")
        for f in r["fields"]:
            if f["width"] == 1:
                out.append(f"`define QMX_{n}_{f['name']}_BIT {f['lsb']}")
            else:
                out.append(f"`define QMX_{n}_{f['name']}_LSB {f['lsb']}")
                out.append(f"`define QMX_{n}_{f['name']}_WIDTH {f['width']}")
        for v in r["values"]:
            bits = v.get("bits", 8)
            out.append(f"`define QMX_{n}_{v['name']} {bits}'h{v['value']:0{bits // 4}X}")
        out.append("")
    out += verilog_layouts(cq, layouts)
    out += ["`endif // QMX_REGS_VH", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("regmap")
    ap.add_argument("--c", help="write the C header here")
    ap.add_argument("--verilog", help="write the Verilog include here")
    a = ap.parse_args()
    mp, regs, cq, layouts = load(a.regmap)
    for path, text in ((a.c, c_header(mp, regs, cq, layouts)),
                       (a.verilog, verilog_include(mp, regs, cq, layouts))):
        if path:
            with open(path, "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
