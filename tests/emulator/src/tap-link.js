'use strict';
/**
 * The emulated board's Ethernet cable: frames to and from a TAP device through
 * `tap_bridge.py` (a child process holding the device, speaking 2-byte-length records
 * on its standard streams).
 */

const { spawn } = require('node:child_process');
const path = require('node:path');

class TapLink {
  /** Opens `iface`; `onFrame(buffer)` gets each frame from the wire. */
  constructor(iface, onFrame, onExit) {
    this.child = spawn('python3', [path.join(__dirname, 'tap_bridge.py'), iface], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.pending = Buffer.alloc(0);
    this.child.stdout.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 2) {
        const length = this.pending.readUInt16BE(0);
        if (this.pending.length < 2 + length) break;
        onFrame(this.pending.subarray(2, 2 + length));
        this.pending = this.pending.subarray(2 + length);
      }
    });
    this.child.on('exit', (code, signal) => onExit(code, signal));
    this.child.stdin.on('error', () => {});
  }

  send(frame) {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(frame.length);
    this.child.stdin.write(Buffer.concat([header, frame]));
  }

  close() {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

module.exports = { TapLink };
