#!/usr/bin/env python3
"""Writes the seed corpora, fuzz/corpus/<target>/seed-*: real command lines (from the
transcript, unit and fault tests) and, for the modem target, broker packets (CONNACK,
SUBACK, PUBLISH QoS 0/1/2, PUBACK, PINGRESP, DISCONNECT with a reason, malformed
lengths) in the target's record format (see fuzz_targets/modem.rs).

scripts/fuzz.sh runs it before fuzzing; the corpus directories themselves are not kept
in git (they grow while fuzzing). Usage: fuzz/seeds.py [CORPUS_DIR] (default
fuzz/corpus).
"""

import os
import sys

CRLF = b"\r\n"


def lines(*items):
    return b"".join(item.encode() + CRLF for item in items)


# ---------------------------------------------------------------------------------------
# at-core targets
# ---------------------------------------------------------------------------------------

LINE_ASSEMBLER = {
    "at": b"AT\r\n",
    "cr-only": b"ATE0\rAT\r",
    "lf-only": b"AT\nAT+GMR\n",
    "empty-lines": b"\r\n\r\n\n\r\r",
    "crlf-swallow": b"AT\r\r\n\nAT\r\n",
    "long-line": b"A" * 300 + b"\r\nAT\r\n",
    "at-cap": b"B" * 254 + b"\r" + b"C" * 255 + b"\n",
    "raw-after": b'AT+MQTTPUBRAW=0,"t",5,0,0\r\n',
    "binary": bytes(range(256)),
}

ARGS_TEXT = [
    b'0,1,"mock","","",0,0,""',
    b'0,"broker",1883,1',
    b'0,"x/y","hello",1,0',
    b'0,"a\\,b\\"c\\\\d",-5,',
    b'0,60,0,"will/+","m",0,0',
    b'"",,1,-2147483648,18446744073709551615',
    b'0,"t/#",2',
    b'"unterminated',
    b'1,2,3,4,5,6,7,8,9',
    b'"id","00112233445566778899aabbccddeeff"',
]


def args_seeds():
    seeds = {}
    plans = [0x0000, 0x1234, 0x4924, 0xFFFF, 0x0A50, 0x6DB6]
    for n, text in enumerate(ARGS_TEXT):
        plan = plans[n % len(plans)]
        seeds[f"params-{n}"] = plan.to_bytes(2, "little") + text
    return seeds


def engine_seeds():
    # The first byte: read size (bits 0-5), esp-at profile (bit 6), compare (bit 7).
    inputs = {
        "basic": lines("AT", "ATE0", "AT", "ATE1", "AT+GMR", "AT+CMD?"),
        "syslog": lines("AT+SYSLOG=1", "AT+SYSLOG?", "AT+FAIL=3", "AT+FAIL=0"),
        "echo": lines('AT+ECHO="hi"', "AT+ECHO=?", 'AT+ECHO="a\\"b\\,c"', "AT+ECHO="),
        "args": lines('AT+ARGS=1,"two",,-4', "AT+ARGS=", 'AT+ARGS="\\\\"'),
        "waits": lines("AT+WAIT", "AT", "AT+WWAIT", "AT+DONE", "AT"),
        "raw": lines("AT+RAW=5") + b"12345" + lines("AT"),
        "raw-wait": lines("AT+RAWWAIT=3") + b"a\r\n" + lines("AT+PROF?"),
        "plus3": b"AT+RAW=10\r\n+++" + lines("AT"),
        "errors": lines("AT+NOPE", "at", "A", "ATX", "AT+ECHO", "AT+ARGS=\""),
        "overflow": b"AT+ECHO=\"" + b"x" * 300 + b"\"\r\nAT\r\n",
        "restart": lines("ATE0", "AT+RST", "AT"),
    }
    seeds = {}
    for n, (name, data) in enumerate(inputs.items()):
        shape = [0x3F, 0x00, 0x47, 0x83, 0xC0, 0x05][n % 6]
        seeds[name] = bytes([shape]) + data
    return seeds


# ---------------------------------------------------------------------------------------
# The modem target: records [tag, len, bytes].
# tag bit 0: broker (1) or host (0); bits 1-3: 2^n yields; bit 4: sleep 1/5/20/60 ms
# (bits 6-7); bit 5 (broker): [header, body...] framed with its remaining length.
# ---------------------------------------------------------------------------------------


def varint(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def record(tag, data):
    assert len(data) <= 255, data
    return bytes([tag, len(data)]) + data


YIELDS = 3 << 1  # 8 yields


def host(text, tag=YIELDS):
    data = text if isinstance(text, bytes) else text.encode() + CRLF
    return record(tag & ~1 & ~0x20, data)


def packet(header, body, tag=YIELDS):
    """A well-formed packet: framed by the target."""
    return record(tag | 0x21, bytes([header]) + body)


def raw(data, tag=YIELDS):
    """Bytes as they are (malformed packets, several packets, split packets)."""
    return record((tag | 1) & ~0x20, data)


def sleep(ms_index, tag=YIELDS):
    return tag | 0x10 | (ms_index << 6)


def publish(qos, topic, payload, pid=1, properties=props(), dup=False, retain=False):
    header = 0x30 | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    body = string(topic)
    if qos:
        body += pid.to_bytes(2, "big")
    return header, body + properties + payload


def frame(header, body):
    return bytes([header]) + varint(len(body)) + body


CONNACK = (0x20, b"\x00\x00\x00")
CONNACK_PROPS = (
    0x20,
    b"\x01\x00"
    + props(
        b"\x21\x00\x02",  # receive maximum 2
        b"\x27\x00\x00\x01\x00",  # maximum packet size 256
        b"\x22\x00\x05",  # topic alias maximum
        b"\x13\x00\x01",  # server keep alive 1 s
        b"\x12" + string("assigned-id"),
        b"\x24\x00",  # maximum QoS 0
        b"\x25\x00",  # retain not available
    ),
)
CONNACK_REFUSED = (0x20, b"\x00\x87\x00")
SUBACK = (0x90, b"\x00\x01\x00\x01")
SUBACK_REFUSED = (0x90, b"\x00\x02\x00\x87")
UNSUBACK = (0xB0, b"\x00\x02\x00\x00")
PUBACK = (0x40, b"\x00\x01\x00\x00")
PUBACK_REFUSED = (0x40, b"\x00\x01\x87\x00")
PUBREC = (0x50, b"\x00\x01\x00\x00")
PUBREL = (0x62, b"\x00\x07\x00\x00")
PUBCOMP = (0x70, b"\x00\x01\x00\x00")
PINGRESP = (0xD0, b"")
DISCONNECT_TAKEN_OVER = (0xE0, b"\x8e\x00")
DISCONNECT_OTHER_SERVER = (0xE0, b"\x9c" + props(b"\x1c" + string("other:1883")))
DISCONNECT_EMPTY = (0xE0, b"")
AUTH = (0xF0, b"\x00")

PUBLISH_PROPS = props(
    b"\x01\x01",  # payload format: UTF-8
    b"\x02\x00\x00\x00\x3c",  # message expiry
    b"\x23\x00\x01",  # topic alias 1
    b"\x0b\x05",  # subscription identifier
    b"\x26" + string("k") + string("v"),  # user property
    b"\x08" + string("resp/t"),  # response topic
    b"\x09" + string(b"\x00\x01"),  # correlation data
    b"\x03" + string("text/plain"),  # content type
)


def modem_seeds():
    p = packet
    scenarios = {
        "idle": b"",
        "host-at": host("AT") + host("AT+MQTTCONN?") + host("AT+MQTTSUB?"),
        "pub-qos0": host('AT+MQTTPUB=0,"x/y","hello",0,0'),
        "pub-qos1-puback": host('AT+MQTTPUB=0,"x/y","hello",1,0', tag=0)
        + p(*PUBACK),
        "pub-qos1-refused": host('AT+MQTTPUB=0,"x/y","hello",1,0', tag=0)
        + p(*PUBACK_REFUSED),
        "pub-qos2-handshake": host('AT+MQTTPUB=0,"x/y","two",2,1', tag=0)
        + p(*PUBREC, tag=0)
        + p(*PUBCOMP),
        "pubraw": host('AT+MQTTPUBRAW=0,"raw/t",5,1,0')
        + host(b"a\r\n\0b")
        + host("AT"),
        "pubraw-short": host('AT+MQTTPUBRAW=0,"raw/t",50,0,0') + host(b"abc", tag=sleep(2)),
        "recv-qos0": p(*publish(0, "t/a", b"hello")),
        "recv-qos1": p(*publish(1, "t/a", b"qos one", pid=7)),
        "recv-qos2": p(*publish(2, "t/a", b"qos two", pid=7)) + p(*PUBREL),
        "recv-props": p(*publish(1, "t/p", b"{\"v\":1}", pid=9, properties=PUBLISH_PROPS)),
        "recv-alias": p(*publish(0, "", b"by alias", properties=props(b"\x23\x00\x01"))),
        "recv-retain-dup": p(*publish(1, "t/r", b"again", pid=3, dup=True, retain=True)),
        "recv-unsubscribed": p(*publish(0, "other/topic", b"not mine")),
        "recv-crlf-payload": p(*publish(0, "t/a", b"\r\nOK\r\nbusy p...\r\n")),
        "recv-binary-payload": p(*publish(0, "t/b", bytes(range(200)))),
        "recv-flood": b"".join(p(*publish(0, "t/f", b"m" * 100), tag=0) for _ in range(12)),
        "recv-while-busy": host('AT+MQTTPUB=0,"x/y","hello",1,0', tag=0)
        + p(*publish(1, "t/a", b"between", pid=2), tag=0)
        + host("AT")
        + p(*PUBACK),
        "connack-again": p(*CONNACK) + p(*CONNACK_PROPS),
        "connack-refused": p(*CONNACK_REFUSED, tag=sleep(1)),
        "suback": host('AT+MQTTSUB=0,"a/+",2', tag=0) + p(*SUBACK) + p(*SUBACK_REFUSED),
        "unsuback": host('AT+MQTTUNSUB=0,"t/#"', tag=0) + p(*UNSUBACK),
        "pingresp": p(*PINGRESP) + p(*PINGRESP),
        "disconnect-taken-over": p(*DISCONNECT_TAKEN_OVER, tag=sleep(2)) + host("AT+MQTTCONN?"),
        "disconnect-other-server": p(*DISCONNECT_OTHER_SERVER, tag=sleep(1)),
        "disconnect-empty": p(*DISCONNECT_EMPTY, tag=sleep(1)),
        "auth": p(*AUTH),
        "reserved-type": p(0x00, b"") + p(0xFF, b"\x00"),
        "malformed-varint": raw(b"\x30\xff\xff\xff\xff\x7f"),
        "malformed-huge": raw(b"\x30\xff\xff\xff\x7f" + b"\x00\x03t/a"),
        "malformed-truncated": raw(b"\x30\x80"),
        "malformed-topic-len": raw(b"\x30\x05\x00\x09t/a"),
        "malformed-props-len": raw(b"\x30\x08\x00\x03t/a\x7f\x01\x01"),
        "malformed-suback": raw(b"\x90\x00") + raw(b"\x90\x02\x00"),
        "split-packet": raw(frame(*publish(0, "t/s", b"split"))[:4], tag=0)
        + raw(frame(*publish(0, "t/s", b"split"))[4:]),
        "two-packets": raw(frame(*PINGRESP) + frame(*publish(0, "t/two", b"x"))),
        "oversize-publish": raw(b"\x30\xe8\x07\x00\x03t/a\x00" + b"z" * 200),
        "clean": host("AT+MQTTCLEAN=0", tag=sleep(1)) + host("AT+MQTTCONN?"),
        "clean-reconnect": host("AT+MQTTCLEAN=0")
        + host('AT+MQTTUSERCFG=0,1,"again","","",0,0,""')
        + host('AT+MQTTCONNCFG=0,60,1,"will/t","bye",1,1')
        + host('AT+MQTTCONN=0,"broker",1883,0', tag=sleep(1)),
        "conncfg-keepalive": host("AT+MQTTCLEAN=0")
        + host('AT+MQTTUSERCFG=0,1,"k","","",0,0,""')
        + host('AT+MQTTCONNCFG=0,1,0,"","",0,0"')
        + host('AT+MQTTCONN=0,"broker",1883,1', tag=sleep(3)),
        "psk-scheme2": host("AT+MQTTCLEAN=0")
        + host('AT+MQTTUSERCFG=0,2,"mock","","",0,0,""')
        + host('AT+MQTTPSK=0,"modem","00112233445566778899aabbccddeeff"')
        + host('AT+MQTTCONN=0,"broker",1883,0', tag=sleep(1)),
        "echo-and-errors": host("ATE1") + host("AT+MQTTPUB=1") + host("AT+NOPE") + host("ATE0"),
        "partial-line": host(b"AT+MQTTPUB=0,\"x", tag=sleep(2)) + host("AT"),
        "busy": host('AT+MQTTPUB=0,"x/y","a",1,0', tag=0) + host("AT", tag=0) + host("AT"),
        "restart": host("AT+RST") + host("AT"),
        "long-line": host(b"AT+MQTTPUB=0,\"" + b"t" * 200, tag=0) + host(b"t" * 100 + b"\r\n"),
        "sub-many": b"".join(host(f'AT+MQTTSUB=0,"s/{n}",{n % 3}') for n in range(5)),
        "pub-then-disconnect": host('AT+MQTTPUB=0,"x/y","lost",1,0', tag=0)
        + p(*DISCONNECT_TAKEN_OVER, tag=sleep(2)),
    }
    return scenarios


def credential_check_seeds():
    """The upload checker's fixtures, each under every kind byte (0 CA, 1 client
    certificate, 2 client key)."""
    fixtures = os.path.join(os.path.dirname(__file__), "..", "at-mqtt", "tests", "fixtures")
    seeds = {}
    for name in sorted(os.listdir(fixtures)):
        if name.endswith(".sh"):
            continue
        with open(os.path.join(fixtures, name), "rb") as item:
            data = item.read()
        for kind in range(3):
            seeds[f"{name}-{kind}"] = bytes([kind]) + data
    return seeds


def write(root, target, seeds):
    directory = os.path.join(root, target)
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, f"seed-{name}"), "wb") as out:
            out.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    write(root, "line_assembler", LINE_ASSEMBLER)
    write(root, "args", args_seeds())
    write(root, "engine", engine_seeds())
    write(root, "modem", modem_seeds())
    write(root, "credential_check", credential_check_seeds())


if __name__ == "__main__":
    main()
