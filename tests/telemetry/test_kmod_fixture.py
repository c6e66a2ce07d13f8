#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmx exporter and qmx cdi on a fixture sysfs/procfs tree shaped like the
kernel's with qmx.ko bound to two devices: a PCI card with a render node and
the driver's hwmon chip, a platform device with an accel node; beside them a
render node of another driver and processes holding the nodes open (one DRM
client under two fds, as after dup()).  The exporter must count each client
once, only qmx.ko's nodes, and the hwmon energy as modelled; the CDI spec
must validate against the CDI project's JSON schema (Debian
golang-github-container-orchestrated-devices-container-device-interface-dev)
and name exactly qmx.ko's nodes.

usage: test_kmod_fixture.py QMX"""
import json
import os
import re
import subprocess
import sys
import tempfile

from telemetry_common import close, has, parse_exposition, value

SCHEMA_DIR = ("/usr/share/gocode/src/github.com/container-orchestrated-devices/"
              "container-device-interface/schema")
GRID = 200.0


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def link(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def make_tree(root):
    sys_ = os.path.join(root, "sys")
    pci = "devices/pci0000:00/0000:00:03.0"
    other = "devices/pci0000:00/0000:00:04.0"
    plat = "devices/platform/qmx.0"
    # qmx.ko's drivers (qmx, qmx-platform, qmx_cosim) are told by their
    # module link; a driver without one (built in) by its name.
    link(f"{sys_}/{pci}/driver", "../../../bus/pci/drivers/qmx")
    link(f"{sys_}/{other}/driver", "../../../bus/pci/drivers/virtio-pci")
    link(f"{sys_}/bus/pci/drivers/virtio-pci/module", "../../../../module/virtio_pci")
    link(f"{sys_}/{plat}/driver", "../../../bus/platform/drivers/qmx-platform")
    link(f"{sys_}/bus/platform/drivers/qmx-platform/module", "../../../../module/qmx")
    for dev, cls, node, nums in ((pci, "drm", "renderD128", "226:128"),
                                 (pci, "drm", "card0", "226:0"),
                                 (other, "drm", "renderD129", "226:129"),
                                 (plat, "accel", "accel0", "261:0")):
        write(f"{sys_}/{dev}/{cls}/{node}/dev", nums + "\n")
        link(f"{sys_}/{dev}/{cls}/{node}/device", "../../../" + os.path.basename(dev))
        link(f"{sys_}/class/{cls}/{node}", f"../../{dev}/{cls}/{node}")
    hw = f"{sys_}/{pci}/hwmon/hwmon3"
    write(f"{hw}/name", "qmx\n")
    write(f"{hw}/energy1_input", "2500000\n")   # µJ
    write(f"{hw}/energy1_label", "modelled\n")
    write(f"{hw}/power1_input", "1500000\n")    # µW
    link(f"{hw}/device", "../../../0000:00:03.0")
    link(f"{sys_}/class/hwmon/hwmon3", f"../../{pci}/hwmon/hwmon3")
    write(f"{sys_}/devices/platform/coretemp.0/hwmon/hwmon0/name", "coretemp\n")
    link(f"{sys_}/class/hwmon/hwmon0", "../../devices/platform/coretemp.0/hwmon/hwmon0")

    proc = os.path.join(root, "proc")

    def fd(pid, n, target, fdinfo=None):
        link(f"{proc}/{pid}/fd/{n}", target)
        if fdinfo is not None:
            write(f"{proc}/{pid}/fdinfo/{n}", fdinfo)

    def qmx_info(client, ns, cycles, jobs):
        return (f"pos:\t0\nflags:\t02100002\ndrm-driver:\tqmx\ndrm-client-id:\t{client}\n"
                f"drm-engine-qmx:\t{ns} ns\ndrm-cycles-qmx:\t{cycles}\n"
                f"drm-maxfreq-qmx:\t500000000 Hz\ndrm-total-memory:\t64 KiB\n"
                f"qmx-jobs:\t{jobs}\nqmx-pinned-memory:\t0 KiB\n")

    fd(100, 3, "/dev/dri/renderD128", qmx_info(7, 1500000000, 1000, 5))
    fd(100, 4, "/dev/dri/renderD128", qmx_info(7, 1500000000, 1000, 5))  # dup()
    fd(101, 3, "/dev/dri/renderD128", qmx_info(8, 500000000, 400, 2))
    fd(101, 5, "/dev/dri/renderD129",
       "drm-driver:\tvirtio_gpu\ndrm-client-id:\t3\ndrm-engine-render:\t9 ns\n")
    fd(102, 0, "/dev/accel/accel0", qmx_info(1, 250000000, 125, 1))
    fd(103, 1, "/dev/null", "pos:\t0\n")
    os.makedirs(f"{proc}/sys", exist_ok=True)  # not a pid
    return sys_, proc


def check_exporter(qmx, env, tmp, errors):
    journal = os.path.join(tmp, "jobs.log")
    # kmod lines are the kernel's to count; one malformed line is counted.
    write(journal, "qmx-job 1 device=kmod backend=kmod device_ns=5 cycles=1 macs=9 "
                   "ext_read=0 ext_written=0 sram_read=0 sram_written=0 source=modelled "
                   "energy_j=1 operational_g=1 embodied_g=1 grid_g_per_kwh=1\n"
                   "qmx-job 1 device=sim backend=sim device_ns=x\n")
    r = subprocess.run([qmx, "exporter", "--once", "--journal", journal], env=env,
                       capture_output=True, text=True, timeout=60)
    if r.returncode:
        errors.append(f"exporter --once: exit {r.returncode}: {r.stderr}")
        return
    print(r.stdout)
    s, _ = parse_exposition(r.stdout)
    card, acc = "kmod:/dev/dri/renderD128", "kmod:/dev/accel/accel0"
    want = [
        (("qmx_jobs_total", card), 7), (("qmx_busy_seconds_total", card), 2.0),
        (("qmx_cycles_total", card), 1400), (("qmx_jobs_total", acc), 1),
        (("qmx_busy_seconds_total", acc), 0.25), (("qmx_cycles_total", acc), 125),
        (("qmx_grid_intensity_grams_per_kilowatt_hour", card), GRID),
        (("qmx_operational_carbon_grams_total", card), 2.5 / 3.6e6 * GRID),
    ]
    for (name, dev), v in want:
        got = value(s, name, device=dev, backend="kmod")
        if not close(got, v):
            errors.append(f"{name}{{device={dev}}}: {got!r}, expected {v!r}")
    for src, v in (("modelled", 2.5), ("measured", 0.0)):
        got = value(s, "qmx_energy_joules_total", device=card, source=src)
        if not close(got, v):
            errors.append(f"joules {src}: {got!r}, expected {v!r}")
    if not close(value(s, "qmx_power_watts", device=card, source="measured"), 1.5):
        errors.append("qmx_power_watts of the card is not hwmon's 1.5 W")
    # What the kernel does not say is left out, not shown as 0.
    for name, dev in (("qmx_macs_total", card), ("qmx_energy_joules_total", acc),
                      ("qmx_power_watts", acc), ("qmx_embodied_carbon_grams_total", card)):
        if has(s, name, device=dev):
            errors.append(f"{name} for {dev}: the fixture has no such figure")
    devs = {dict(ls)["device"] for (n, ls) in s if n == "qmx_device_info"}
    if devs != {card, acc}:
        errors.append(f"devices {sorted(devs)}, expected only qmx.ko's two nodes")
    if value(s, "qmx_exporter_journal_errors_total") != 1:
        errors.append("the malformed journal line is not counted")


def check_cdi(qmx, env, tmp, errors):
    r = subprocess.run([qmx, "cdi"], env=env, capture_output=True, text=True, timeout=60)
    if r.returncode:
        errors.append(f"cdi: exit {r.returncode}: {r.stderr}")
        return
    spec = json.loads(r.stdout)
    print(json.dumps(spec, indent=1))
    import warnings

    import jsonschema  # Debian python3-jsonschema
    # Debian 12's jsonschema (4.10) predates the referencing library.
    warnings.simplefilter("ignore", DeprecationWarning)
    store = {}
    for name in ("schema.json", "defs.json"):
        path = os.path.join(SCHEMA_DIR, name)
        if not os.path.exists(path):
            errors.append(f"{path} missing: apt-get install "
                          "golang-github-container-orchestrated-devices-container-device-interface-dev")
            return
        with open(path) as f:
            store[name] = json.load(f)
    resolver = jsonschema.RefResolver(base_uri="file://" + SCHEMA_DIR + "/",
                                      referrer=store["schema.json"],
                                      store={"file://" + SCHEMA_DIR + "/defs.json": store["defs.json"]})
    try:
        jsonschema.Draft7Validator(store["schema.json"], resolver=resolver).validate(spec)
    except jsonschema.ValidationError as e:
        errors.append(f"CDI schema: {e.message} at {list(e.absolute_path)}")
    # The rules the schema leaves to the CDI library (pkg/cdi: qualified
    # kind, device names).
    if spec["cdiVersion"] not in ("0.5.0", "0.6.0") or spec["kind"] != "qmx.dev/gemm":
        errors.append(f"cdiVersion/kind: {spec['cdiVersion']} {spec['kind']}")
    names = [d["name"] for d in spec["devices"]]
    if names != ["0", "1", "all"] or any(not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", n)
                                         for n in names):
        errors.append(f"device names {names}")
    nodes = {d["name"]: d["containerEdits"]["deviceNodes"] for d in spec["devices"]}
    want = {"0": [("/dev/accel/accel0", 261, 0)], "1": [("/dev/dri/renderD128", 226, 128)]}
    want["all"] = want["0"] + want["1"]
    for n, w in want.items():
        got = [(x["path"], x["major"], x["minor"]) for x in nodes.get(n, [])]
        if got != w or any(x["type"] != "c" for x in nodes.get(n, [])):
            errors.append(f"device {n}: nodes {got}, expected {w}")
    env0 = spec["devices"][0]["containerEdits"].get("env")
    if env0 != ["QMX_DEVICE=kmod:/dev/accel/accel0"]:
        errors.append(f"device 0 env {env0}")
    # --output: the same spec in a file; nothing else left in the directory.
    out_dir = os.path.join(tmp, "cdi")
    os.mkdir(out_dir)
    out = os.path.join(out_dir, "qmx.json")
    r = subprocess.run([qmx, "cdi", "--output", out], env=env, capture_output=True, text=True,
                       timeout=60)
    if r.returncode or os.listdir(out_dir) != ["qmx.json"]:
        errors.append(f"cdi --output: exit {r.returncode}, {os.listdir(out_dir)}: {r.stderr}")
    else:
        with open(out) as f:
            if json.load(f) != spec:
                errors.append("cdi --output differs from stdout")
    # No qmx.ko node: one line saying so, exit 1.
    empty = os.path.join(tmp, "empty-sys")
    os.mkdir(empty)
    r = subprocess.run([qmx, "cdi"], env=dict(env, QMX_SYSFS_ROOT=empty), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 1 or "no accel or render node bound to qmx.ko" not in r.stderr or r.stdout:
        errors.append(f"cdi without nodes: exit {r.returncode}, {r.stderr!r}")


def main():
    qmx = sys.argv[1]
    errors = []
    with tempfile.TemporaryDirectory(prefix="qmx-kmodfix-") as tmp:
        sys_, proc = make_tree(tmp)
        env = dict(os.environ, QMX_SYSFS_ROOT=sys_, QMX_PROCFS_ROOT=proc,
                   QMX_GRID_INTENSITY=str(GRID))
        env.pop("QMX_PUE", None)
        check_exporter(qmx, env, tmp, errors)
        check_cdi(qmx, env, tmp, errors)
    for e in errors:
        print("FAIL:", e)
    if errors:
        return 1
    print("ok: fdinfo, hwmon and the CDI spec of the fixture tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
