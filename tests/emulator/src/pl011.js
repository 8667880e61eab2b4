'use strict';
/**
 * A PL011 UART model (the RP2040's UART0/UART1; ARM PrimeCell UART r1p5 TRM, RP2040
 * datasheet section 4.2) replacing rp2040js's own, bridged to a byte stream.
 *
 * Covers: UARTDR (data, no error bits), UARTRSR/ECR (reads 0), UARTFR (BUSY, RXFE, TXFF,
 * RXFF, TXFE), the baud divisors IBRD/FBRD with clk_peri and the frame length from
 * LCR_H (so each character takes its real time on the simulated clock), LCR_H.FEN
 * (32-entry FIFOs, or 1 without), CR (UARTEN, TXE, RXE), IFLS trigger levels, IMSC, RIS,
 * MIS, ICR, DMACR (stored: DMA requests are not raised), the peripheral ID registers.
 * Interrupts: RX at or above the RX trigger level, RX timeout (the FIFO not empty for 32
 * bit periods since the last character), TX when the FIFO drains through the TX trigger
 * level (the TRM's transition rule, cleared by ICR or by filling above it). The IRQ line
 * is driven, low included, after every register access and FIFO change (rp2040js keeps a
 * software pend set otherwise).
 * Leaves out: flow control (CTS/RTS), break, parity and framing errors, overrun (a full
 * RX FIFO holds the host's next byte back instead of losing it), IrDA, DMA requests,
 * loop-back, 9-bit and other word lengths' effect on the data.
 */

const DR = 0x00;
const RSR = 0x04;
const FR = 0x18;
const IBRD = 0x24;
const FBRD = 0x28;
const LCR_H = 0x2c;
const CR = 0x30;
const IFLS = 0x34;
const IMSC = 0x38;
const RIS = 0x3c;
const MIS = 0x40;
const ICR = 0x44;
const DMACR = 0x48;
const PERIPH_ID = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1]; // 0xfe0..0xffc

const FR_BUSY = 1 << 3;
const FR_RXFE = 1 << 4;
const FR_TXFF = 1 << 5;
const FR_RXFF = 1 << 6;
const FR_TXFE = 1 << 7;
const INT_RX = 1 << 4;
const INT_TX = 1 << 5;
const INT_RT = 1 << 6;
const FIFO_DEPTH = 32;
/** IFLS's 3-bit trigger selections as eighths of the FIFO. */
const TRIGGER_EIGHTHS = [1, 2, 4, 6, 7];

class Pl011 {
  /**
   * @param rp2040 the chip (its clock, clk_peri and interrupt lines)
   * @param irq the UART's interrupt number
   * @param transmit called with each byte the UART finishes sending
   */
  constructor(rp2040, irq, transmit) {
    this.rp2040 = rp2040;
    this.irq = irq;
    this.transmit = transmit;
    this.rxFifo = [];
    this.txFifo = [];
    /** Bytes from the host not yet in the RX FIFO, in arrival order. */
    this.hostQueue = [];
    this.shifting = false;
    this.ibrd = 0;
    this.fbrd = 0;
    this.lcrH = 0;
    this.cr = 0x300;
    this.ifls = 0x12;
    this.imsc = 0;
    this.ris = 0;
    this.dmacr = 0;
    this.txAlarm = rp2040.clock.createAlarm(() => this.finishTxCharacter());
    this.rxAlarm = rp2040.clock.createAlarm(() => this.receiveCharacter());
    this.timeoutAlarm = rp2040.clock.createAlarm(() => this.receiveTimeout());
    this.rxScheduled = false;
  }

  get depth() {
    return this.lcrH & (1 << 4) ? FIFO_DEPTH : 1;
  }

  get enabled() {
    return (this.cr & 1) !== 0;
  }

  /** One character's time on the line, in nanoseconds (8N1 at 115200 baud: 86.8 µs). */
  get characterNanos() {
    const divisor = this.ibrd + this.fbrd / 64;
    if (divisor === 0) return 86806;
    const baud = this.rp2040.clkPeri / (16 * divisor);
    const wordBits = 5 + ((this.lcrH >> 5) & 3);
    const parity = this.lcrH & (1 << 1) ? 1 : 0;
    const stop = this.lcrH & (1 << 3) ? 2 : 1;
    return ((1 + wordBits + parity + stop) * 1e9) / baud;
  }

  level(selectBits) {
    const eighths = TRIGGER_EIGHTHS[selectBits] ?? 4;
    return (FIFO_DEPTH * eighths) / 8;
  }

  /** Bytes the host sent; they enter the RX FIFO one character time apart. */
  hostSent(bytes) {
    for (const byte of bytes) this.hostQueue.push(byte);
    this.scheduleReceive();
  }

  /** Whether the model is still sending (TX FIFO or shift register not empty). */
  get transmitting() {
    return this.shifting || this.txFifo.length > 0;
  }

  scheduleReceive() {
    if (!this.rxScheduled && this.hostQueue.length > 0) {
      this.rxScheduled = true;
      this.rxAlarm.schedule(this.characterNanos);
    }
  }

  receiveCharacter() {
    this.rxScheduled = false;
    const receiving = this.enabled && (this.cr & (1 << 9)) !== 0;
    if (receiving && this.rxFifo.length < this.depth && this.hostQueue.length > 0) {
      this.rxFifo.push(this.hostQueue.shift());
      this.timeoutAlarm.schedule(this.characterNanos * 3.2); // 32 bit periods
      this.update();
    }
    this.scheduleReceive();
  }

  receiveTimeout() {
    if (this.rxFifo.length > 0) {
      this.ris |= INT_RT;
      this.update();
    }
  }

  startTransmit() {
    const sending = this.enabled && (this.cr & (1 << 8)) !== 0;
    if (!this.shifting && sending && this.txFifo.length > 0) {
      const before = this.txFifo.length;
      this.shiftingByte = this.txFifo.shift();
      this.shifting = true;
      this.txDrained(before);
      this.txAlarm.schedule(this.characterNanos);
    }
  }

  finishTxCharacter() {
    this.shifting = false;
    this.transmit(this.shiftingByte);
    this.startTransmit();
    this.update();
  }

  /** The TX FIFO went from `before` entries to one fewer: the TRM's transition rule. */
  txDrained(before) {
    const trigger = this.level(this.ifls & 7);
    if (before > trigger && this.txFifo.length <= trigger) this.ris |= INT_TX;
  }

  update() {
    const rxTrigger = this.level((this.ifls >> 3) & 7);
    if (this.rxFifo.length >= Math.min(rxTrigger, this.depth)) this.ris |= INT_RX;
    else this.ris &= ~INT_RX;
    if (this.rxFifo.length === 0) this.ris &= ~INT_RT;
    this.rp2040.setInterrupt(this.irq, (this.ris & this.imsc) !== 0);
  }

  readUint32(offset) {
    let value = 0;
    switch (offset) {
      case DR:
        if (this.rxFifo.length > 0) {
          value = this.rxFifo.shift();
          if (this.rxFifo.length > 0) this.timeoutAlarm.schedule(this.characterNanos * 3.2);
          this.scheduleReceive();
        }
        break;
      case RSR:
        break;
      case FR:
        value =
          (this.transmitting ? FR_BUSY : 0) |
          (this.rxFifo.length === 0 ? FR_RXFE : 0) |
          (this.txFifo.length >= this.depth ? FR_TXFF : 0) |
          (this.rxFifo.length >= this.depth ? FR_RXFF : 0) |
          (this.txFifo.length === 0 ? FR_TXFE : 0);
        break;
      case IBRD:
        value = this.ibrd;
        break;
      case FBRD:
        value = this.fbrd;
        break;
      case LCR_H:
        value = this.lcrH;
        break;
      case CR:
        value = this.cr;
        break;
      case IFLS:
        value = this.ifls;
        break;
      case IMSC:
        value = this.imsc;
        break;
      case RIS:
        value = this.ris;
        break;
      case MIS:
        value = this.ris & this.imsc;
        break;
      case DMACR:
        value = this.dmacr;
        break;
      default:
        if (offset >= 0xfe0 && offset <= 0xffc) value = PERIPH_ID[(offset - 0xfe0) >> 2];
    }
    this.update();
    return value;
  }

  writeUint32(offset, value) {
    switch (offset) {
      case DR:
        if (this.txFifo.length < this.depth) {
          this.txFifo.push(value & 0xff);
          const trigger = this.level(this.ifls & 7);
          if (this.txFifo.length > trigger) this.ris &= ~INT_TX;
          this.startTransmit();
        }
        break;
      case RSR:
        break;
      case IBRD:
        this.ibrd = value & 0xffff;
        break;
      case FBRD:
        this.fbrd = value & 0x3f;
        break;
      case LCR_H:
        this.lcrH = value & 0xff;
        break;
      case CR:
        this.cr = value & 0xffff;
        this.startTransmit();
        this.scheduleReceive();
        break;
      case IFLS:
        this.ifls = value & 0x3f;
        break;
      case IMSC:
        this.imsc = value & 0x7ff;
        break;
      case ICR:
        this.ris &= ~(value & 0x7ff);
        break;
      case DMACR:
        this.dmacr = value & 7;
        break;
      default:
        break;
    }
    this.update();
  }

  /** rp2040js's peripheral interface: SET/CLEAR/XOR aliases at +0x1000..+0x3000. */
  writeUint32Atomic(offset, value, atomicType) {
    // Reading DR would take a byte from the RX FIFO: an atomic write to it starts from 0.
    const current = offset === DR ? 0 : this.readUint32(offset);
    const next =
      atomicType === 1 ? current ^ value : atomicType === 2 ? current | value : atomicType === 3 ? current & ~value : value;
    this.writeUint32(offset, next >>> 0);
  }
}

module.exports = { Pl011 };
