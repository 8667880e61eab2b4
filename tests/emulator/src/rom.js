'use strict';
/**
 * The project's own boot ROM for the emulated RP2040 (no Raspberry Pi ROM image is
 * used or shipped).
 *
 * Covers what the firmware needs of the RP2040 bootrom (datasheet section 2.8): the
 * initial stack pointer and a reset vector that enters the firmware's boot2 at
 * 0x10000000; the `Mu` magic and version byte at 0x10; the function and data table
 * pointers at 0x14/0x16 (both an empty table); `rom_table_lookup` at 0x18, which returns
 * a word copy for `memcpy44` ('C4') and a routine that just returns for every other code
 * (connect_internal_flash, flash_exit_xip, flash_flush_cache, ...: the emulated flash
 * needs no set-up). Leaves out everything else: USB boot, the flash programming and
 * floating-point routines, the data tables.
 */

const ROM_BYTES = 16 * 1024;
/** The top of the RP2040's striped SRAM: the stack the real bootrom hands over. */
const INITIAL_SP = 0x20042000;
/** Where the firmware's boot2 starts (the first 256 bytes of flash). */
const BOOT2 = 0x10000000;

/** Thumb code from 0x20; every half word commented with its instruction. */
const CODE = [
  // rom_table_lookup(table: r0, code: r1) -> function address (Thumb bit set) in r0
  [0x20, 0x4a0a], // ldr   r2, [pc, #40]    ; r2 = 0x3443 ('C4')
  [0x22, 0x4291], // cmp   r1, r2
  [0x24, 0xd102], // bne   0x2c
  [0x26, 0xa003], // adr   r0, 0x34         ; memcpy44
  [0x28, 0x3001], // adds  r0, #1
  [0x2a, 0x4770], // bx    lr
  [0x2c, 0xa006], // adr   r0, 0x48         ; return-only routine
  [0x2e, 0x3001], // adds  r0, #1
  [0x30, 0x4770], // bx    lr
  [0x32, 0xbf00], // nop
  // memcpy44(dest: r0, src: r1, n: r2) -> dest; n a multiple of 4
  [0x34, 0x4684], // mov   r12, r0
  [0x36, 0x2a00], // cmp   r2, #0
  [0x38, 0xd003], // beq   0x42
  [0x3a, 0xc908], // ldmia r1!, {r3}
  [0x3c, 0xc008], // stmia r0!, {r3}
  [0x3e, 0x3a04], // subs  r2, #4
  [0x40, 0xd8fb], // bhi   0x3a
  [0x42, 0x4660], // mov   r0, r12
  [0x44, 0x4770], // bx    lr
  [0x46, 0xbf00], // nop
  // every other ROM function: returns at once
  [0x48, 0x4770], // bx    lr
  // fault handler before the firmware sets its vector table: stop here
  [0x4a, 0xe7fe], // b     0x4a
  // reset: enter boot2
  [0x50, 0x4800], // ldr   r0, [pc, #0]     ; r0 = BOOT2 | 1
  [0x52, 0x4700], // bx    r0
];

/** The ROM as 32-bit words, for `RP2040.loadBootrom`. */
function buildRom() {
  const bytes = Buffer.alloc(ROM_BYTES);
  bytes.writeUInt32LE(INITIAL_SP, 0x00);
  bytes.writeUInt32LE(0x51, 0x04); // reset handler (Thumb)
  bytes.writeUInt32LE(0x4b, 0x08); // NMI
  bytes.writeUInt32LE(0x4b, 0x0c); // HardFault
  bytes.write('Mu', 0x10, 'latin1');
  bytes[0x12] = 0x01; // magic's third byte
  bytes[0x13] = 0x03; // ROM version (B2)
  bytes.writeUInt16LE(0x58, 0x14); // public function table: empty
  bytes.writeUInt16LE(0x58, 0x16); // public data table: empty
  bytes.writeUInt16LE(0x21, 0x18); // rom_table_lookup (Thumb)
  for (const [address, halfword] of CODE) bytes.writeUInt16LE(halfword, address);
  bytes.writeUInt32LE(0x3443, 0x4c); // literal: 'C' | '4' << 8
  bytes.writeUInt32LE(BOOT2 | 1, 0x54); // literal: boot2, Thumb
  bytes.writeUInt32LE(0, 0x58); // the empty table's terminator
  const words = new Uint32Array(ROM_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4);
  return words;
}

module.exports = { buildRom, ROM_BYTES };
