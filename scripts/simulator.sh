#!/usr/bin/env bash
# Runs the host simulator as an MQTT modem, with a private mosquitto broker to talk to.
#
#   scripts/simulator.sh                       # AT commands on this terminal (stdio)
#   scripts/simulator.sh --serial pty:/tmp/modem   # a serial port for picocom/pyserial
#   scripts/simulator.sh --serial tcp:127.0.0.1:5000 --profile esp-at
#
# Installs mosquitto when it is missing (scripts/setup.sh --broker; Debian/Ubuntu, as root
# or with sudo), builds `at-host` (cargo's progress shows; the first build takes a few
# minutes), starts mosquitto on a free loopback port, prints that port, runs `at-host`
# with the given arguments, and stops the broker when the simulator exits.
#
# On stdio the simulator puts the terminal in raw mode while it runs: no local echo, no
# line editing, Enter sends CR, every byte goes to the modem as typed, and what appears
# is exactly what the modem sends (its echo included). Ctrl-C quits.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --broker

echo "simulator: building at-host (cargo build --release -p at-host; the first build" \
    "takes a few minutes, later ones seconds)" >&2
cargo build --release -p at-host

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
log_dest file $dir/mosquitto.log
CONF
if [ "$(id -u)" = 0 ]; then echo "user root" >>"$dir/mosquitto.conf"; fi
mosquitto -c "$dir/mosquitto.conf" 2>>"$dir/mosquitto.log" &
broker=$!
trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; rm -rf "$dir"' EXIT

cat >&2 <<INFO
simulator: mosquitto listens on 127.0.0.1:$port (log: $dir/mosquitto.log)
simulator: Ctrl-C stops the simulator and the broker
simulator: try  AT+MQTTUSERCFG=0,1,"demo","","",0,0,""
                AT+MQTTCONN=0,"127.0.0.1",$port,1
                AT+MQTTSUB=0,"demo/#",1
                AT+MQTTPUB=0,"demo/hello","hi",1,0
           and from another terminal:  mosquitto_pub -p $port -t demo/x -m hello
INFO
target/release/at-host "$@"
