#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmp_plug_ivshmem.py - hot-plug a new ivshmem device, served by a
restarted qmx-simd, into an empty PCIe root port through QEMU's QMP socket:
a fresh card inserted beside the one that died, which the guest unbinds.

    qmp_plug_ivshmem.py QMP_SOCKET SERVER_SOCKET [--port rp2] [--timeout SECONDS]

Why not pull the dead device first: QEMU 7.2's ivshmem leaves its vector fd
handlers behind on unplug, and the new device's eventfds reuse those fd
numbers (QEMU then crashes in object_dynamic_cast_assert).  Every wait is
bounded.
"""
import argparse
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, deadline):
        self.deadline = deadline
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.recv()  # greeting
        self.command("qmp_capabilities")

    def recv(self):
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("QMP: no answer before the deadline")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP: QEMU closed the socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            msg = self.recv()
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise RuntimeError(f"QMP {name}: {msg['error'].get('desc', msg['error'])}")
            return msg.get("return")



def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("qmp")
    ap.add_argument("server")
    ap.add_argument("--port", default="rp2")
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()
    qmp = Qmp(a.qmp, time.monotonic() + a.timeout)
    qmp.command("chardev-add", id="ivsh-new",
                backend={"type": "socket",
                         "data": {"addr": {"type": "unix", "data": {"path": a.server}},
                                  "server": False}})
    qmp.command("device_add", driver="ivshmem-doorbell", id="ivsh-new", bus=a.port,
                chardev="ivsh-new", vectors=1)
    print(f"qmp_plug_ivshmem: a new ivshmem device on {a.port}, served by {a.server}",
          flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError, TimeoutError, ValueError) as e:
        print(f"qmp_plug_ivshmem: {e}", file=sys.stderr)
        sys.exit(1)
