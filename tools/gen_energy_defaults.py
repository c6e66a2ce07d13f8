#!/usr/bin/env python3
"""Generate the driver's default per-action energies from hw/energy/actions.ini.

Usage: gen_energy_defaults.py ACTIONS.ini --c OUT.h

The runtime reads actions.ini itself; the kernel module cannot, so its hwmon
and fdinfo model takes the same 45 nm figures (Horowitz ISSCC 2014) as
compile-time defaults from this generated, kernel-safe header.
"""
import argparse
import configparser

BANNER = "generated from hw/energy/actions.ini by tools/gen_energy_defaults.py - do not edit"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("actions")
    ap.add_argument("--c", required=True, help="write the C header here")
    a = ap.parse_args()
    ini = configparser.ConfigParser(inline_comment_prefixes=("#",))
    with open(a.actions) as f:
        ini.read_file(f)
    h = ini["horowitz45"]
    pj = {k: float(h[k]) for k in ("mul_int8", "add_int32", "sram_64bit_8kb", "dram_64bit")}
    fj = {
        "MAC": (pj["mul_int8"] + pj["add_int32"]) * 1000,
        "SRAM_BYTE": pj["sram_64bit_8kb"] / 8 * 1000,
        "EXT_BYTE": pj["dram_64bit"] / 8 * 1000,
    }
    lines = [
        f"/* {BANNER} */",
        "#ifndef QMX_ENERGY_DEFAULTS_H",
        "#define QMX_ENERGY_DEFAULTS_H",
        "",
        "/* femtojoules, 45 nm, Horowitz ISSCC 2014 (hw/energy/actions.ini [horowitz45]) */",
        f"#define QMX_ENERGY_MAC_FJ {round(fj['MAC'])}u /* 8-bit multiply + 32-bit add */",
        f"#define QMX_ENERGY_SRAM_BYTE_FJ {round(fj['SRAM_BYTE'])}u /* 8 KB SRAM 64-bit access / 8 */",
        f"#define QMX_ENERGY_EXT_BYTE_FJ {round(fj['EXT_BYTE'])}u /* DRAM 64-bit access / 8 */",
        "",
        "#endif /* QMX_ENERGY_DEFAULTS_H */",
        "",
    ]
    with open(a.c, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
