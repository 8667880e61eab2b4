#!/usr/bin/env node
'use strict';
/**
 * Runs the RP2040 port's release ELF in rp2040js as a W5500-EVB-Pico: UART0 bridged to
 * a TCP port on 127.0.0.1 (the host's serial line), the W5500's Ethernet to a TAP
 * device, the defmt RTT log to a file.
 *
 * Usage: node src/main.js --elf PATH [--tap IFACE | --unplugged] [--rtt FILE] [--port N]
 *
 * Prints on standard error:
 *   emulator: listening on 127.0.0.1:PORT     once, when the serial port is open
 *   emulator: ready SIM_MS ms simulated, WALL_MS ms wall   each boot's `ready` line
 *   emulator: stats ...                        on SIGUSR1
 *   emulator gap: ...                          each register rp2040js does not model,
 *                                              the first time the firmware touches it
 * The board powers on when the first host connects; a later connection takes over the
 * line (the board keeps running). A system reset keeps the flash's contents (what the
 * firmware erased and programmed); a new emulator process starts from the ELF again.
 * `--unplugged` leaves the W5500 off the SPI bus.
 */

const fs = require('node:fs');
const net = require('node:net');
const { parseElf } = require('./elf.js');
const { Board } = require('./board.js');
const { RunLoop } = require('./run-loop.js');
const { TapLink } = require('./tap-link.js');

function parseArgs(argv) {
  const options = { elf: null, tap: null, unplugged: false, rtt: null, port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--elf':
        options.elf = value();
        break;
      case '--tap':
        options.tap = value();
        break;
      case '--unplugged':
        options.unplugged = true;
        break;
      case '--rtt':
        options.rtt = value();
        break;
      case '--port':
        options.port = Number(value());
        break;
      default:
        usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!options.elf) usage('--elf is required');
  if (!options.tap && !options.unplugged) usage('give --tap IFACE or --unplugged');
  return options;
}

function usage(message) {
  process.stderr.write(`emulator: ${message}\nusage: main.js --elf PATH [--tap IFACE | --unplugged] [--rtt FILE] [--port N]\n`);
  process.exit(2);
}

const log = (line) => process.stderr.write(`emulator: ${line}\n`);

function main() {
  const options = parseArgs(process.argv.slice(2));
  let elf;
  try {
    elf = fs.readFileSync(options.elf);
  } catch (error) {
    log(`cannot read the firmware ELF ${options.elf}: ${error.message}`);
    process.exit(1);
  }
  const image = parseElf(elf);
  const rttFile = options.rtt ? fs.openSync(options.rtt, 'w') : null;

  let client = null;
  let toHost = [];
  let board = null;
  let bootWall = 0;
  let readyScan = '';
  const started = process.hrtime.bigint();
  const wallMs = (since) => Number(process.hrtime.bigint() - since) / 1e6;

  const uartTransmit = (byte) => {
    toHost.push(byte);
    if (readyScan !== null) {
      readyScan = (readyScan + String.fromCharCode(byte)).slice(-9);
      if (readyScan === '\r\nready\r\n') {
        const simulated = board.rp2040.clock.nanos / 1e6;
        log(`ready ${simulated.toFixed(1)} ms simulated, ${wallMs(bootWall).toFixed(1)} ms wall`);
        readyScan = null;
      }
    }
  };

  let link = null;
  if (options.tap) {
    link = new TapLink(
      options.tap,
      (frame) => {
        if (board) {
          board.receiveFrame(frame);
          loop.kick();
        }
      },
      (code, signal) => {
        log(`the TAP bridge exited (${signal ?? code})`);
        process.exit(1);
      },
    );
  }
  const ethernetSend = link ? (frame) => link.send(frame) : null;
  const report = (message) => process.stderr.write(`emulator gap: ${message}\n`);

  /** Starts a new board: from the image (`flash` absent) or from a reset board's flash. */
  const powerOn = (flash) => {
    board = new Board(image, { uartTransmit, ethernetSend, report, flash });
    bootWall = process.hrtime.bigint();
    readyScan = '';
    loop.start(board);
  };

  const loop = new RunLoop(() => {
    if (toHost.length > 0) {
      if (client) client.write(Buffer.from(toHost));
      toHost = [];
    }
    if (client && client.isPaused() && board.uart.hostQueue.length < 1024) client.resume();
    if (rttFile !== null && board.rtt) {
      const bytes = board.rtt.drain();
      if (bytes) fs.writeSync(rttFile, bytes);
    }
    if (board.resetRequested && !board.uart.transmitting) {
      log('system reset (AIRCR.SYSRESETREQ)');
      powerOn(board.flash);
    }
  });

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    if (client) client.destroy();
    client = socket;
    socket.on('data', (bytes) => {
      if (!board) return;
      board.uart.hostSent(bytes);
      if (board.uart.hostQueue.length > 8192) socket.pause();
      loop.kick();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (client === socket) client = null;
    });
    if (!board) powerOn();
  });
  server.listen(options.port, '127.0.0.1', () => {
    log(`listening on 127.0.0.1:${server.address().port}`);
  });

  process.on('SIGUSR1', () => {
    const simulated = loop.simulatedNanos / 1e6;
    log(
      `stats simulated_ms=${simulated.toFixed(1)} wall_ms=${wallMs(started).toFixed(1)} ` +
        `busy_cycles=${loop.busyCycles} busy_simulated_ms=${(loop.busySimulatedNanos / 1e6).toFixed(1)} ` +
        `busy_wall_ms=${(loop.busyNanos / 1e6).toFixed(1)} ` +
        `mhz=${loop.mhz.toFixed(2)}`,
    );
  });
  const stop = () => {
    if (link) link.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
