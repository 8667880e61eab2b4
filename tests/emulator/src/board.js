'use strict';
/**
 * The emulated W5500-EVB-Pico: an rp2040js RP2040 with the project's ROM, the firmware's
 * flash image, the register fixes, the PL011 model on UART0 and the W5500 model on SPI0
 * (CS GP17, RST GP20, INTn GP21), as `ports/rp2040/src/main.rs` wires them. A reset
 * (power-on or AIRCR) is a new `Board`; after AIRCR it starts from the flash of the
 * board before it, as the chip keeps its flash across resets.
 */

const { RP2040, GPIOPinState } = require('rp2040js');
const { buildRom, romBreak } = require('./rom.js');
const { applyFixes, makeLogger } = require('./fixes.js');
const { Pl011 } = require('./pl011.js');
const { W5500 } = require('./w5500.js');
const { RttReader } = require('./rtt.js');

const FLASH_START = 0x10000000;
const UART0_KEY = 0x40034;
const UART0_IRQ = 20;
const PIN_CS = 17;
const PIN_RESET = 20;
const PIN_INT = 21;

class Board {
  /**
   * @param image the parsed ELF (`segments`, `symbols`)
   * @param options `uartTransmit(byte)`, `ethernetSend(frame)` (absent: W5500 unplugged),
   *   `report(message)` for emulator warnings, `flash` (optional) the flash contents to
   *   start from (a reset: the previous board's `flash`); absent, the flash is erased and
   *   programmed with the image (power-on)
   */
  constructor(image, options) {
    const rp2040 = new RP2040();
    this.rp2040 = rp2040;
    /** Why the core stopped (an instruction rp2040js cannot execute), or null. */
    this.fault = null;
    const stop = (message) => {
      if (this.fault === null) {
        this.fault = message;
        options.report(`core stopped at 0x${rp2040.core.PC.toString(16)}: ${message}`);
      }
    };
    rp2040.logger = makeLogger(rp2040, options.report, stop);
    // rp2040js turns UDF and BKPT into a break: the ROM's flash routines, or where a
    // panic ends (panic-probe's udf).
    rp2040.onBreak = (code) => {
      if (!romBreak(rp2040, code)) stop(`UDF/BKPT #${code}`);
    };
    rp2040.loadBootrom(buildRom()); // resets the chip, which erases rp2040js's flash
    if (options.flash) {
      rp2040.flash.set(options.flash);
    } else {
      for (const { address, data } of image.segments) {
        if (address >= FLASH_START && address - FLASH_START + data.length <= rp2040.flash.length) {
          rp2040.flash.set(data, address - FLASH_START);
        }
      }
    }
    this.resetRequested = false;
    applyFixes(rp2040, () => {
      this.resetRequested = true;
    });

    this.uart = new Pl011(rp2040, UART0_IRQ, options.uartTransmit);
    rp2040.peripherals[UART0_KEY] = this.uart;

    const spi = rp2040.spi[0];
    const interrupt = rp2040.gpio[PIN_INT];
    interrupt.setInputValue(true); // pulled up on the board
    if (options.ethernetSend) {
      this.w5500 = new W5500(options.ethernetSend, (high) => interrupt.setInputValue(high));
      const low = (state) => state === GPIOPinState.Low;
      rp2040.gpio[PIN_CS].addListener((state) => (low(state) ? this.w5500.select() : this.w5500.deselect()));
      rp2040.gpio[PIN_RESET].addListener((state) => this.w5500.setReset(low(state)));
    } else {
      this.w5500 = null;
    }
    // MISO one SPI byte time after MOSI: completing at once lets the TX DMA channel run
    // ahead of RX and overflow the 8-entry RX FIFO.
    const spiAlarm = rp2040.clock.createAlarm(() => spi.completeTransmit(this.spiAnswer));
    spi.onTransmit = (mosi) => {
      this.spiAnswer = this.w5500 ? this.w5500.exchange(mosi) : 0;
      const hz = spi.clockFrequency || 31.25e6;
      spiAlarm.schedule((8 * 1e9) / hz);
    };

    const rtt = image.symbols.get('_SEGGER_RTT');
    this.rtt = rtt === undefined ? null : new RttReader(rp2040, rtt);
    rp2040.core.reset(); // SP and PC from the ROM's vectors
  }

  /** The flash's contents (rp2040js's array: the ROM routines program it in place). */
  get flash() {
    return this.rp2040.flash;
  }

  /** A frame from the wire for the W5500. */
  receiveFrame(frame) {
    if (this.w5500) this.w5500.receive(frame);
  }
}

module.exports = { Board };
