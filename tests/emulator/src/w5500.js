'use strict';
/**
 * A WIZnet W5500 model (W5500 datasheet v1.1.0) on an SPI bus of the emulated RP2040,
 * with socket 0 in MACRAW mode: the subset embassy-net-wiznet 0.3 uses.
 *
 * Covers: the SPI frame (16-bit address, control byte with block select, read/write bit
 * and variable-length mode framed by chip select; each MISO byte answered one SPI byte
 * time after its MOSI byte, as the shift register does); common registers MR (soft
 * reset), SHAR, IR/IMR (stored), SIR (from socket 0), SIMR, PHYCFGR (link up, 100 Mbit/s
 * full duplex), VERSIONR = 0x04; socket 0 registers Sn_MR (MACRAW with MFEN: only frames
 * for SHAR, broadcast or multicast are taken), Sn_CR OPEN/SEND/RECV/CLOSE, Sn_IR
 * (write 1 to clear; RECV and SENDOK), Sn_SR (CLOSED / SOCK_MACRAW), Sn_IMR, Sn_TX_FSR,
 * Sn_TX_RD/WR, Sn_RX_RSR/RD/WR; 16 KiB TX and RX buffers with address wrap, each
 * received frame stored behind its 2-byte length (length included); INTn low while
 * (SIR & SIMR) != 0; RSTn low holds the chip in reset.
 * Leaves out: sockets 1-7, TCP/UDP/IPRAW modes, buffer sizes other than 16 KiB, the PHY's
 * link changes, auto-negotiation and timing, the interrupt low-level timer (INTLEVEL),
 * fixed-length SPI modes, Wake-on-LAN, PPPoE; a received frame that does not fit in the
 * free RX buffer is dropped, as the chip does.
 */

const BUFFER_BYTES = 0x4000;
const VERSION = 0x04;
const SOCK_CLOSED = 0x00;
const SOCK_MACRAW = 0x42;
const IR_SENDOK = 0x10;
const IR_RECV = 0x04;
const CMD_OPEN = 0x01;
const CMD_CLOSE = 0x10;
const CMD_SEND = 0x20;
const CMD_RECV = 0x40;

class W5500 {
  /**
   * @param send called with each Ethernet frame (a Buffer) socket 0 sends
   * @param setInterrupt called with the INTn level (true = high, not asserted)
   */
  constructor(send, setInterrupt) {
    this.send = send;
    this.setInterrupt = setInterrupt;
    this.held = false;
    this.reset();
  }

  reset() {
    this.common = new Uint8Array(0x40);
    this.socket = new Uint8Array(0x30);
    this.socket[0x2c] = 0xff; // Sn_IMR default
    this.socket[0x1e] = 2; // RX buffer size (KiB), default
    this.socket[0x1f] = 2;
    this.tx = new Uint8Array(BUFFER_BYTES);
    this.rx = new Uint8Array(BUFFER_BYTES);
    this.txRd = 0;
    this.txWr = 0;
    this.rxRd = 0;
    /** Sn_RX_RD as committed by the last RECV command. */
    this.rxRdCommitted = 0;
    this.rxWr = 0;
    this.status = SOCK_CLOSED;
    this.frame = null;
    this.updateInterrupt();
  }

  /** RSTn: low resets the chip and holds it there. */
  setReset(low) {
    this.held = low;
    if (low) this.reset();
  }

  /** SCSn went low: a new SPI frame starts. */
  select() {
    this.frame = { index: 0, address: 0, control: 0 };
  }

  /** SCSn went high: the frame ends. */
  deselect() {
    this.frame = null;
  }

  /** One SPI byte exchanged: `mosi` in, the returned MISO byte out. */
  exchange(mosi) {
    const frame = this.frame;
    if (this.held || frame === null) return 0;
    const index = frame.index++;
    if (index === 0) {
      frame.address = mosi << 8;
      return 0x01;
    }
    if (index === 1) {
      frame.address |= mosi;
      return 0x02;
    }
    if (index === 2) {
      frame.control = mosi;
      return 0x03;
    }
    const address = (frame.address + index - 3) & 0xffff;
    const block = frame.control >> 3;
    if (frame.control & 0x04) {
      this.write(block, address, mosi);
      return 0;
    }
    return this.read(block, address);
  }

  read(block, address) {
    switch (block) {
      case 0:
        return this.readCommon(address);
      case 1:
        return this.readSocket(address);
      case 2:
        return this.tx[address % BUFFER_BYTES];
      case 3:
        return this.rx[address % BUFFER_BYTES];
      default:
        return 0;
    }
  }

  write(block, address, value) {
    switch (block) {
      case 0:
        this.writeCommon(address, value);
        break;
      case 1:
        this.writeSocket(address, value);
        break;
      case 2:
        this.tx[address % BUFFER_BYTES] = value;
        break;
      default:
        break;
    }
  }

  readCommon(address) {
    switch (address) {
      case 0x17: // SIR
        return this.socketInterrupt ? 1 : 0;
      case 0x2e: // PHYCFGR: RST=1, OPMD=1, all capable, 100 FD, link up
        return 0xff;
      case 0x39:
        return VERSION;
      default:
        return address < this.common.length ? this.common[address] : 0;
    }
  }

  writeCommon(address, value) {
    if (address === 0x00 && value & 0x80) {
      this.reset();
      return;
    }
    if (address === 0x17 || address === 0x39) return;
    if (address < this.common.length) this.common[address] = value;
    if (address === 0x18) this.updateInterrupt();
  }

  get rxReceived() {
    return (this.rxWr - this.rxRdCommitted) & 0xffff;
  }

  get txFree() {
    return (BUFFER_BYTES - ((this.txWr - this.txRd) & 0xffff)) & 0xffff;
  }

  readSocket(address) {
    const high = (value) => (value >> 8) & 0xff;
    const low = (value) => value & 0xff;
    switch (address) {
      case 0x01:
        return 0; // Sn_CR reads 0 once the command is taken
      case 0x03:
        return this.status;
      case 0x20:
        return high(this.txFree);
      case 0x21:
        return low(this.txFree);
      case 0x22:
        return high(this.txRd);
      case 0x23:
        return low(this.txRd);
      case 0x24:
        return high(this.txWr);
      case 0x25:
        return low(this.txWr);
      case 0x26:
        return high(this.rxReceived);
      case 0x27:
        return low(this.rxReceived);
      case 0x28:
        return high(this.rxRd);
      case 0x29:
        return low(this.rxRd);
      case 0x2a:
        return high(this.rxWr);
      case 0x2b:
        return low(this.rxWr);
      default:
        return address < this.socket.length ? this.socket[address] : 0;
    }
  }

  writeSocket(address, value) {
    switch (address) {
      case 0x01:
        this.command(value);
        return;
      case 0x02: // Sn_IR: write 1 to clear
        this.socket[0x02] &= ~value;
        this.updateInterrupt();
        return;
      case 0x24:
        this.txWr = (value << 8) | (this.txWr & 0xff);
        return;
      case 0x25:
        this.txWr = (this.txWr & 0xff00) | value;
        return;
      case 0x28:
        this.rxRd = (value << 8) | (this.rxRd & 0xff);
        return;
      case 0x29:
        this.rxRd = (this.rxRd & 0xff00) | value;
        return;
      case 0x03:
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x26:
      case 0x27:
      case 0x2a:
      case 0x2b:
        return; // read-only
      default:
        if (address < this.socket.length) this.socket[address] = value;
        if (address === 0x2c) this.updateInterrupt();
    }
  }

  command(value) {
    switch (value) {
      case CMD_OPEN:
        if ((this.socket[0x00] & 0x0f) === 0x04) {
          this.status = SOCK_MACRAW;
          this.txRd = this.txWr = 0;
          this.rxRd = this.rxRdCommitted = this.rxWr = 0;
        }
        break;
      case CMD_CLOSE:
        this.status = SOCK_CLOSED;
        break;
      case CMD_SEND: {
        const length = (this.txWr - this.txRd) & 0xffff;
        const frame = Buffer.alloc(length);
        for (let i = 0; i < length; i++) frame[i] = this.tx[(this.txRd + i) % BUFFER_BYTES];
        this.txRd = this.txWr;
        if (this.status === SOCK_MACRAW && length > 0) this.send(frame);
        this.socket[0x02] |= IR_SENDOK;
        break;
      }
      case CMD_RECV:
        this.rxRdCommitted = this.rxRd;
        if (this.rxReceived > 0) this.socket[0x02] |= IR_RECV;
        break;
      default:
        break;
    }
    this.updateInterrupt();
  }

  /** A frame from the wire; returns whether socket 0 took it. */
  receive(frame) {
    if (this.held || this.status !== SOCK_MACRAW || frame.length < 14) return false;
    if (this.socket[0x00] & 0x80) {
      const own = frame.subarray(0, 6).equals(Buffer.from(this.common.subarray(0x09, 0x0f)));
      const group = (frame[0] & 1) !== 0;
      if (!own && !group) return false;
    }
    const stored = frame.length + 2;
    if (BUFFER_BYTES - this.rxReceived < stored) return false;
    const header = [(stored >> 8) & 0xff, stored & 0xff];
    let at = this.rxWr;
    for (const byte of header) this.rx[at++ % BUFFER_BYTES] = byte;
    for (const byte of frame) this.rx[at++ % BUFFER_BYTES] = byte;
    this.rxWr = at & 0xffff;
    this.socket[0x02] |= IR_RECV;
    this.updateInterrupt();
    return true;
  }

  get socketInterrupt() {
    return (this.socket[0x02] & this.socket[0x2c]) !== 0;
  }

  updateInterrupt() {
    const asserted = this.socketInterrupt && (this.common[0x18] & 1) !== 0;
    this.setInterrupt(!asserted);
  }
}

module.exports = { W5500 };
