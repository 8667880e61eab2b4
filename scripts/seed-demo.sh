#!/usr/bin/env bash
# Plays the seed document's MQTT examples against a fresh mosquitto broker and prints
# the transcript (`> ` the host's bytes, `< ` the modem's), then what `mosquitto_sub`,
# subscribed to the same topic, printed.
#
#   scripts/seed-demo.sh
#
# Needs mosquitto and mosquitto_sub (Debian/Ubuntu: apt-get install mosquitto
# mosquitto-clients). Everything it starts is stopped by process id when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

PATH="$PATH:/usr/sbin:/usr/local/sbin"
for tool in mosquitto mosquitto_sub; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "seed-demo: $tool not found (apt-get install mosquitto mosquitto-clients)" >&2
        exit 1
    fi
done

cargo build -q -p at-host
at_host="${CARGO_TARGET_DIR:-target}/debug/at-host"

dir=$(mktemp -d)
broker=""
subscriber=""
cleanup() {
    for pid in $subscriber $broker; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT

# A free loopback port: mosquitto exits at once if another process took it first.
for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        echo "log_type all"
        [ "$(id -u)" = 0 ] && echo "user root"
    } >"$dir/mosquitto.conf"
    : >"$dir/mosquitto.log"
    mosquitto -c "$dir/mosquitto.conf" 2>"$dir/mosquitto.log" &
    broker=$!
    for _ in $(seq 100); do
        grep -q " running" "$dir/mosquitto.log" && break
        kill -0 "$broker" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$broker" 2>/dev/null && grep -q " running" "$dir/mosquitto.log" && break
    wait "$broker" 2>/dev/null || true
    broker=""
done
if [ -z "$broker" ]; then
    echo "seed-demo: mosquitto did not start:" >&2
    cat "$dir/mosquitto.log" >&2
    exit 1
fi

# One message, at most 20 s.
mosquitto_sub -h 127.0.0.1 -p "$port" -i seed-sub -t test/abc -q 1 -C 1 -W 20 -v \
    >"$dir/sub.out" 2>&1 &
subscriber=$!
for _ in $(seq 200); do
    grep -q "Sending SUBACK to seed-sub" "$dir/mosquitto.log" && break
    sleep 0.05
done

cat >"$dir/seed.at" <<SCRIPT
AT+MQTTUSERCFG=0,1,"ESP32","espressif","1234567890",0,0,""
AT+MQTTCONNCFG=0,180,0,"test/aaa","good bye",1,0
AT+MQTTCONN=0,"127.0.0.1",$port,1
AT+MQTTSUB=0,"test/abc",1
AT+MQTTPUB=0,test/abc,987654321,1,0
AT+MQTTCONN?
AT+MQTTSUB?
AT+MQTTCLEAN=0
SCRIPT

echo "== at-host --script (mosquitto on 127.0.0.1:$port)"
"$at_host" --script "$dir/seed.at"
wait "$subscriber" || true
subscriber=""
echo "== mosquitto_sub -t test/abc -v"
cat "$dir/sub.out"
