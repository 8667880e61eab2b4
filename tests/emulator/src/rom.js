'use strict';
/**
 * The project's own boot ROM for the emulated RP2040 (no Raspberry Pi ROM image is
 * used or shipped), and the flash programming it does for the firmware.
 *
 * Covers what the firmware needs of the RP2040 bootrom (datasheet section 2.8): the
 * initial stack pointer and a reset vector that enters the firmware's boot2 at
 * 0x10000000; the `Mu` magic and version byte at 0x10; the public function table at
 * 0x14 (16-bit code and address pairs, ending in a zero code) and an empty data table
 * at 0x16; `rom_table_lookup` at 0x18, which walks the table it is given and returns a
 * routine that just returns for a code it does not hold. The function table holds:
 * `memcpy44` ('C4', a word copy); `flash_range_erase` ('RE') and `flash_range_program`
 * ('RP'), each a `bkpt` that `romBreak` serves on the flash array (erase sets 0xFF,
 * programming ANDs the bits in, as NOR flash does) before it returns; and
 * connect_internal_flash, flash_exit_xip, flash_flush_cache, flash_enter_cmd_xip as the
 * return-only routine (the emulated flash needs no set-up and has no cache). Flash
 * operations take no simulated time. Leaves out everything else: USB boot, the
 * floating-point routines, the data tables.
 */

const ROM_BYTES = 16 * 1024;
/** The top of the RP2040's striped SRAM: the stack the real bootrom hands over. */
const INITIAL_SP = 0x20042000;
/** Where the firmware's boot2 starts (the first 256 bytes of flash). */
const BOOT2 = 0x10000000;
/** The flash's sector, the smallest unit `flash_range_erase` erases. */
const SECTOR_BYTES = 4096;
/** The flash's 24-bit address space (rp2040js's 16 MiB flash array). */
const FLASH_ADDRESS_MASK = 0xffffff;

/** Thumb code from 0x20; every half word commented with its instruction. */
const CODE = [
  // rom_table_lookup(table: r0, code: r1) -> function address (Thumb bit set) in r0
  [0x20, 0x8802], // ldrh  r2, [r0, #0]     ; the entry's code
  [0x22, 0x428a], // cmp   r2, r1
  [0x24, 0xd003], // beq   0x2e
  [0x26, 0x2a00], // cmp   r2, #0           ; the table's end
  [0x28, 0xd003], // beq   0x32
  [0x2a, 0x3004], // adds  r0, #4           ; the next entry
  [0x2c, 0xe7f8], // b     0x20
  [0x2e, 0x8840], // ldrh  r0, [r0, #2]     ; found: the entry's address
  [0x30, 0x4770], // bx    lr
  [0x32, 0xa006], // adr   r0, 0x4c         ; not found: the return-only routine
  [0x34, 0x3001], // adds  r0, #1
  [0x36, 0x4770], // bx    lr
  // memcpy44(dest: r0, src: r1, n: r2) -> dest; n a multiple of 4
  [0x38, 0x4684], // mov   r12, r0
  [0x3a, 0x2a00], // cmp   r2, #0
  [0x3c, 0xd003], // beq   0x46
  [0x3e, 0xc908], // ldmia r1!, {r3}
  [0x40, 0xc008], // stmia r0!, {r3}
  [0x42, 0x3a04], // subs  r2, #4
  [0x44, 0xd8fb], // bhi   0x3e
  [0x46, 0x4660], // mov   r0, r12
  [0x48, 0x4770], // bx    lr
  [0x4a, 0xbf00], // nop
  // the return-only routine (connect_internal_flash, flash_exit_xip, ...)
  [0x4c, 0x4770], // bx    lr
  // fault handler before the firmware sets its vector table: stop here
  [0x4e, 0xe7fe], // b     0x4e
  // flash_range_erase(addr: r0, count: r1, block_size: r2, block_cmd: r3)
  [0x50, 0xbe01], // bkpt  #1               ; romBreak erases
  [0x52, 0x4770], // bx    lr
  // flash_range_program(addr: r0, data: r1, count: r2)
  [0x54, 0xbe02], // bkpt  #2               ; romBreak programs
  [0x56, 0x4770], // bx    lr
  // reset: enter boot2
  [0x58, 0x4800], // ldr   r0, [pc, #0]     ; r0 = BOOT2 | 1
  [0x5a, 0x4700], // bx    r0
];
/** Where the literal for the reset code is. */
const BOOT2_LITERAL = 0x5c;
/** The public function table: code (two ASCII letters, the first in the low byte), address. */
const FUNCTION_TABLE = 0x60;
const FUNCTIONS = [
  ['C4', 0x39], // memcpy44
  ['RE', 0x51], // flash_range_erase
  ['RP', 0x55], // flash_range_program
  ['IF', 0x4d], // connect_internal_flash
  ['EX', 0x4d], // flash_exit_xip
  ['FC', 0x4d], // flash_flush_cache
  ['CX', 0x4d], // flash_enter_cmd_xip
];
/** Where the `bkpt` of each flash routine is, by its immediate. */
const ERASE_BREAK = [0x50, 1];
const PROGRAM_BREAK = [0x54, 2];

/** The ROM as 32-bit words, for `RP2040.loadBootrom`. */
function buildRom() {
  const bytes = Buffer.alloc(ROM_BYTES);
  bytes.writeUInt32LE(INITIAL_SP, 0x00);
  bytes.writeUInt32LE(0x59, 0x04); // reset handler (Thumb)
  bytes.writeUInt32LE(0x4f, 0x08); // NMI
  bytes.writeUInt32LE(0x4f, 0x0c); // HardFault
  bytes.write('Mu', 0x10, 'latin1');
  bytes[0x12] = 0x01; // magic's third byte
  bytes[0x13] = 0x03; // ROM version (B2)
  bytes.writeUInt16LE(FUNCTION_TABLE, 0x14); // public function table
  const end = FUNCTION_TABLE + 4 * FUNCTIONS.length; // the function table's zero code
  bytes.writeUInt16LE(end, 0x16); // public data table: empty (its first code is zero)
  bytes.writeUInt16LE(0x21, 0x18); // rom_table_lookup (Thumb)
  for (const [address, halfword] of CODE) bytes.writeUInt16LE(halfword, address);
  bytes.writeUInt32LE(BOOT2 | 1, BOOT2_LITERAL); // literal: boot2, Thumb
  FUNCTIONS.forEach(([code, address], i) => {
    bytes.write(code, FUNCTION_TABLE + 4 * i, 'latin1');
    bytes.writeUInt16LE(address, FUNCTION_TABLE + 4 * i + 2);
  });
  bytes.writeUInt32LE(0, end); // the terminator
  const words = new Uint32Array(ROM_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(i * 4);
  return words;
}

/**
 * `flash_range_erase`: every sector from `addr` up to `addr + count` (offsets from the
 * flash's start) reads 0xFF; where `block_cmd` is non-zero, an aligned `block_size`
 * block that fits is erased at once, as the ROM does (the result is the same bytes).
 */
function eraseFlash(flash, addr, count, blockSize, blockCommand) {
  const goal = addr + count;
  let at = addr;
  while (at < goal) {
    let start = at - (at % SECTOR_BYTES);
    let length = SECTOR_BYTES;
    if (blockCommand !== 0 && at % blockSize === 0 && goal - at >= blockSize) {
      start = at;
      length = blockSize;
    }
    for (let i = 0; i < length; i++) flash[(start + i) & FLASH_ADDRESS_MASK] = 0xff;
    at = start + length;
  }
}

/**
 * `flash_range_program`: `count` bytes from `data` (any address the core reads) into
 * the flash at offset `addr`, each ANDed into the byte there (programming only clears
 * bits).
 */
function programFlash(rp2040, addr, data, count) {
  const { flash } = rp2040;
  for (let i = 0; i < count; i++) {
    const at = (addr + i) & FLASH_ADDRESS_MASK;
    flash[at] &= rp2040.readUint8((data + i) >>> 0);
  }
}

/**
 * Serves a `bkpt #code` the core just executed (rp2040js has moved PC past it), if it
 * is one of the ROM's flash routines: does the operation on `rp2040.flash` with the
 * arguments in r0-r3 and returns true; false for any other break.
 */
function romBreak(rp2040, code) {
  const { core } = rp2040;
  const at = core.PC - 2;
  const r = core.registers;
  if (at === ERASE_BREAK[0] && code === ERASE_BREAK[1]) {
    eraseFlash(rp2040.flash, r[0] >>> 0, r[1] >>> 0, r[2] >>> 0, r[3] & 0xff);
    return true;
  }
  if (at === PROGRAM_BREAK[0] && code === PROGRAM_BREAK[1]) {
    programFlash(rp2040, r[0] >>> 0, r[1] >>> 0, r[2] >>> 0);
    return true;
  }
  return false;
}

module.exports = { buildRom, romBreak, ROM_BYTES };
