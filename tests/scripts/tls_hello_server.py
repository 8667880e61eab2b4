#!/usr/bin/env python3
"""A TLS 1.3 server that records what a client's ClientHello asked for.

Usage: tls_hello_server.py CERT KEY ALPN...

Listens on a free loopback port and prints `listening on PORT` to standard error;
for each connection it completes the handshake (offering the ALPN protocols given),
then prints `hello sni=<name or -> alpn=<selected or ->` and closes it.
"""

import socket
import ssl
import sys


def main() -> None:
    cert, key, *alpn = sys.argv[1:]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    if alpn:
        context.set_alpn_protocols(alpn)
    seen = {}

    def record_sni(_sock, name, _context):
        seen["sni"] = name

    context.sni_callback = record_sni
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(f"listening on {server.getsockname()[1]}", file=sys.stderr, flush=True)
        while True:
            conn, _ = server.accept()
            seen.clear()
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    selected = tls.selected_alpn_protocol()
                    name = seen.get("sni") or "-"
                    print(f"hello sni={name} alpn={selected or '-'}", file=sys.stderr, flush=True)
            except (ssl.SSLError, OSError) as error:
                print(f"failed {error}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
