'use strict';
/**
 * Drains the firmware's RTT up-channel 0 (where defmt-rtt writes) from emulated RAM, as
 * a debug probe does: reads the bytes between the read and write offsets of the SEGGER
 * RTT control block (`_SEGGER_RTT`) and advances the read offset.
 *
 * Covers up-channel 0 only; down channels (host to target) are left out.
 */

const RAM_START = 0x20000000;
const UP0 = 24; // after the 16-byte id and the two channel counts
const BUFFER = UP0 + 4;
const SIZE = UP0 + 8;
const WRITE = UP0 + 12;
const READ = UP0 + 16;

class RttReader {
  /** `controlBlock`: the address of `_SEGGER_RTT` in RAM. */
  constructor(rp2040, controlBlock) {
    this.rp2040 = rp2040;
    this.base = controlBlock - RAM_START;
  }

  word(offset) {
    return this.rp2040.sramView.getUint32(this.base + offset, true);
  }

  /** The bytes written since the last call (empty until defmt-rtt initialised it). */
  drain() {
    const buffer = this.word(BUFFER);
    const size = this.word(SIZE);
    const write = this.word(WRITE);
    let read = this.word(READ);
    if (buffer < RAM_START || size === 0 || write >= size || read >= size || read === write) {
      return null;
    }
    const start = buffer - RAM_START;
    const chunks = [];
    if (write < read) {
      chunks.push(this.rp2040.sram.subarray(start + read, start + size));
      read = 0;
    }
    chunks.push(this.rp2040.sram.subarray(start + read, start + write));
    const bytes = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk)));
    this.rp2040.sramView.setUint32(this.base + READ, write, true);
    return bytes;
  }
}

module.exports = { RttReader };
