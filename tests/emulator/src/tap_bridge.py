#!/usr/bin/env python3
"""Moves Ethernet frames between a TAP device and this process's standard streams.

Usage: tap_bridge.py IFACE

Opens the existing TAP device IFACE (ioctl TUNSETIFF, IFF_TAP | IFF_NO_PI: Node cannot
issue that ioctl) and relays frames as records of a 2-byte big-endian length and the
frame: from the device to standard output, from standard input to the device. Exits
when standard input ends (its parent is gone) or the device goes away.
"""

import fcntl
import os
import select
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: tap_bridge.py IFACE", file=sys.stderr)
        return 2
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TAP | IFF_NO_PI))
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    pending = b""
    while True:
        readable, _, _ = select.select([tap, stdin], [], [])
        if tap in readable:
            try:
                frame = os.read(tap, 65536)
            except OSError:
                return 0
            os.write(stdout, struct.pack(">H", len(frame)) + frame)
        if stdin in readable:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return 0
            pending += chunk
            while len(pending) >= 2:
                (length,) = struct.unpack(">H", pending[:2])
                if len(pending) < 2 + length:
                    break
                try:
                    os.write(tap, pending[2 : 2 + length])
                except OSError:
                    pass  # a frame the device refuses is lost, as on a wire
                pending = pending[2 + length :]


if __name__ == "__main__":
    sys.exit(main())
