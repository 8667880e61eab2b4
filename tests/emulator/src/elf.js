'use strict';
/**
 * ELF32 little-endian reader: the loadable segments of an executable (by physical
 * address, as a flash programmer writes them) and its symbol table.
 *
 * Covers what the RP2040 firmware image needs: PT_LOAD program headers and the
 * .symtab/.strtab sections. Leaves out relocations, dynamic linking and big-endian files.
 */

const PT_LOAD = 1;
const SHT_SYMTAB = 2;

/** Parses `buffer` (a Node Buffer holding an ELF32 LE file). */
function parseElf(buffer) {
  if (buffer.length < 52 || buffer.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error('not an ELF file');
  }
  if (buffer[4] !== 1 || buffer[5] !== 1) {
    throw new Error('not a 32-bit little-endian ELF file');
  }
  const phoff = buffer.readUInt32LE(28);
  const shoff = buffer.readUInt32LE(32);
  const phentsize = buffer.readUInt16LE(42);
  const phnum = buffer.readUInt16LE(44);
  const shentsize = buffer.readUInt16LE(46);
  const shnum = buffer.readUInt16LE(48);

  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (buffer.readUInt32LE(at) !== PT_LOAD) continue;
    const offset = buffer.readUInt32LE(at + 4);
    const paddr = buffer.readUInt32LE(at + 12);
    const filesz = buffer.readUInt32LE(at + 16);
    if (filesz === 0) continue;
    segments.push({ address: paddr, data: buffer.subarray(offset, offset + filesz) });
  }

  const symbols = new Map();
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    if (buffer.readUInt32LE(at + 4) !== SHT_SYMTAB) continue;
    const offset = buffer.readUInt32LE(at + 16);
    const size = buffer.readUInt32LE(at + 20);
    const link = buffer.readUInt32LE(at + 24);
    const entsize = buffer.readUInt32LE(at + 36) || 16;
    const strAt = shoff + link * shentsize;
    const strOffset = buffer.readUInt32LE(strAt + 16);
    for (let s = offset; s + entsize <= offset + size; s += entsize) {
      const nameOffset = buffer.readUInt32LE(s);
      if (nameOffset === 0) continue;
      const start = strOffset + nameOffset;
      const end = buffer.indexOf(0, start);
      const name = buffer.toString('latin1', start, end);
      symbols.set(name, buffer.readUInt32LE(s + 4));
    }
  }
  return { segments, symbols };
}

module.exports = { parseElf };
