#!/usr/bin/env python3
"""Prove check_kernel_xml.py catches drift: it must pass on the generated
kernel.xml and fail, with the exact message, on copies with one argument's
offset moved, its size halved, its index swapped, one removed and one added.

Usage: test_kernel_xml_drift.py REGMAP.toml KERNEL_XML WORK_DIR
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(regmap, xml):
    p = subprocess.run([sys.executable, os.path.join(HERE, "check_kernel_xml.py"), regmap, xml],
                       capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def main(regmap, xml, work):
    os.makedirs(work, exist_ok=True)
    with open(xml) as f:
        good = f.read()
    rc, out = run(regmap, xml)
    if rc != 0:
        print(f"FAIL: the generated kernel.xml does not pass:\n{out}")
        return 1
    cases = [
        ("offset", ('name="k" addressQualifier="0" id="8" port="s_axi_control" size="0x4" offset="0x48"',
                    'name="k" addressQualifier="0" id="8" port="s_axi_control" size="0x4" offset="0x4C"'),
         "FAIL: argument 'k' (K): offset is 0x4C in kernel.xml, 0x48 in the register map"),
        ("size", ('name="c" addressQualifier="1" id="2" port="m_axi_gmem" size="0x8"',
                  'name="c" addressQualifier="1" id="2" port="m_axi_gmem" size="0x4"'),
         "FAIL: argument 'c' (C_ADDR): size is 0x4 in kernel.xml, 0x8 in the register map"),
        ("index", ('name="flags" addressQualifier="0" id="19"', 'name="flags" addressQualifier="0" id="18"'),
         "FAIL: argument 'flags' (FLAGS): id is 18 in kernel.xml, 19 in the register map"),
        ("missing", ('<arg name="shift" ', '<notarg name="shift" '),
         "FAIL: argument 'shift' (SHIFT): missing from kernel.xml"),
        ("extra", ('<arg name="a" ', '<arg name="a_extra" addressQualifier="0" id="20" port="s_axi_control" '
                   'size="0x4" offset="0x78" type="uint32_t" />\n      <arg name="a" '),
         "FAIL: argument 'a_extra': in kernel.xml but not in the register map"),
    ]
    bad = 0
    for name, (old, new), want in cases:
        if old not in good:
            print(f"FAIL: case {name}: the generated kernel.xml lacks {old!r}")
            bad += 1
            continue
        path = os.path.join(work, f"kernel-{name}.xml")
        with open(path, "w") as f:
            f.write(good.replace(old, new, 1))
        rc, out = run(regmap, path)
        if rc != 1 or out != want:
            print(f"FAIL: case {name}: rc {rc}, output\n  {out}\nexpected rc 1, output\n  {want}")
            bad += 1
        else:
            print(f"ok: {name} drift caught: {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
