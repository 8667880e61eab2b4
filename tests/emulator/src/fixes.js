'use strict';
/**
 * Register fixes for rp2040js 1.4.1: what the RP2040 datasheet specifies and the
 * emulator leaves out or gets wrong, where the firmware depends on it.
 *
 * - SEV sets the core's event register (datasheet 2.4 / ARMv6-M B1.5.18; rp2040js only
 *   logs it), so that embassy's `wfe` executor wakes at once when a task is woken.
 * - XIP_CTRL at 0x14000000 (datasheet 2.6.3.1): a block reading 0, so STREAM_CTR is idle
 *   (it is unmapped and reads 0xffffffff, and `flash::in_ram` waits for it for ever).
 * - DMA CHAN_ABORT (DMA + 0x444) reads 0: no abort is in progress (it reads 0xffffffff,
 *   which makes every `Transfer::drop` wait on all 12 channels).
 * - ROSC (0x40060000, datasheet 2.17): STATUS reads enabled and stable, RANDOMBIT is a
 *   random bit (it is unmodelled, RANDOMBIT reads 1 and `RoscRng` gives constants).
 * - SCB AIRCR (0xe000ed0c) SYSRESETREQ with the VECTKEY asks the board for a system
 *   reset (it is ignored).
 *
 * Leaves out the rest of XIP_CTRL (cache, stream), ROSC's frequency control and
 * dormant mode, and the flash unique ID (the SSI model answers 0x4B with zeros).
 */

const { randomInt } = require('node:crypto');

const XIP_CTRL_KEY = 0x14000;
const ROSC_KEY = 0x40060;
const CHAN_ABORT = 0x444;
const AIRCR = 0xd0c;

/** A peripheral block that reads `read(offset)` and ignores writes. */
function constantBlock(read) {
  return {
    readUint32: (offset) => read(offset),
    writeUint32: () => {},
    writeUint32Atomic: () => {},
  };
}

/**
 * Applies the fixes to `rp2040`; `onResetRequest` is called when the firmware asks for a
 * system reset.
 */
function applyFixes(rp2040, onResetRequest) {
  rp2040.peripherals[XIP_CTRL_KEY] = constantBlock(() => 0);

  const randomBytes = [];
  const randomBit = () => {
    if (randomBytes.length === 0) randomBytes.push(...Array.from({ length: 64 }, () => randomInt(2)));
    return randomBytes.pop();
  };
  rp2040.peripherals[ROSC_KEY] = constantBlock((offset) => {
    switch (offset) {
      case 0x00: // CTRL: enabled, medium range
        return 0xfab << 12 | 0xaa0;
      case 0x18: // STATUS: STABLE, ENABLED
        return (1 << 31) | (1 << 12);
      case 0x1c: // RANDOMBIT
        return randomBit();
      default:
        return 0;
    }
  });

  const dma = rp2040.dma;
  const dmaRead = dma.readUint32.bind(dma);
  dma.readUint32 = (offset) => (offset === CHAN_ABORT ? 0 : dmaRead(offset));

  const ppb = rp2040.ppb;
  const ppbWrite = ppb.writeUint32.bind(ppb);
  ppb.writeUint32 = (offset, value) => {
    if (offset === AIRCR && value >>> 16 === 0x05fa && value & 0x4) {
      onResetRequest();
      return;
    }
    ppbWrite(offset, value);
  };
}

/** How many distinct emulator warnings are reported; the rest are counted only. */
const MAX_REPORTS = 100;

/**
 * The emulator's log: SEV sets the event register (the only way rp2040js reports it),
 * unimplemented registers and instructions are reported once each through `report`, the
 * rest is dropped. An instruction rp2040js cannot execute (`udf` after a panic, or a
 * jump into data) calls `onFault`: the core must stop there.
 */
function makeLogger(rp2040, report, onFault) {
  const seen = new Set();
  const once = (component, message) => {
    if (message.includes('is not implemented yet')) onFault(message);
    const key = `${component}: ${message}`;
    if (!seen.has(key) && seen.size < MAX_REPORTS) {
      seen.add(key);
      report(key);
    }
  };
  return {
    debug: () => {},
    info: (component, message) => {
      if (message === 'SEV') rp2040.core.eventRegistered = true;
    },
    warn: once,
    error: once,
  };
}

module.exports = { applyFixes, makeLogger };
