'use strict';
/**
 * Runs a board's core against its simulated clock, never letting simulated time run
 * ahead of wall time: the core executes until the clock reaches the wall time elapsed
 * since the board started; a core waiting (WFI/WFE) skips to the next alarm only if
 * that is not in the future of the wall clock, and otherwise sleeps until then (or
 * until `kick`, when the host or the wire brings something). rp2040js's own loop jumps
 * to the next alarm at once, which lets DHCP, TCP and keepalive timers fire ahead of
 * real peers. When the emulator is slower than the chip the simulated clock falls
 * behind wall time and catches up while the core idles.
 */

/** Wall time one slice may take before Node's event loop gets a turn. */
const SLICE_MS = 10;
/** Longest sleep while the core waits and no alarm is due. */
const IDLE_MS = 20;

function wallNanos() {
  return Number(process.hrtime.bigint());
}

class RunLoop {
  /**
   * @param afterSlice called after each slice (drains the UART and RTT, handles resets)
   */
  constructor(afterSlice) {
    this.afterSlice = afterSlice;
    this.board = null;
    this.timer = null;
    this.immediate = null;
    /** Cycles the cores executed (not waiting), over every board of this process. */
    this.busyCycles = 0;
    /** Wall time spent executing them. */
    this.busyNanos = 0;
    /** Simulated time they took at the chip's clk_sys: what the real chip spends computing. */
    this.busySimulatedNanos = 0;
  }

  /** Runs `board` from now on (a new board at power-on or after a reset). */
  start(board) {
    this.board = board;
    this.wallStart = wallNanos();
    this.kick();
  }

  /** The simulated nanoseconds of the current board. */
  get simulatedNanos() {
    return this.board ? this.board.rp2040.clock.nanos : 0;
  }

  kick() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate === null && this.board) this.immediate = setImmediate(() => this.slice());
  }

  slice() {
    this.immediate = null;
    const board = this.board;
    const { clock, core } = board.rp2040;
    const sliceStart = wallNanos();
    const target = sliceStart - this.wallStart;
    const sliceEnd = sliceStart + SLICE_MS * 1e6;
    let cycles = 0;
    let steps = 0;
    // After a reset request or a fault the core stops; the clock runs on (the UART
    // drains, the W5500 model keeps taking frames).
    const stopped = () => board.resetRequested || board.fault !== null;
    if (stopped() && clock.nanos < target) clock.tick(target - clock.nanos);
    while (clock.nanos < target && !stopped()) {
      if (core.waiting) {
        const next = clock.nextAlarm;
        if (next && next.nanos <= target) clock.tick(Math.max(0, next.nanos - clock.nanos));
        else clock.tick(target - clock.nanos);
      } else {
        const spent = core.executeInstruction();
        cycles += spent;
        clock.tick((spent * 1e9) / board.rp2040.clkSys);
      }
      if (++steps % 4096 === 0 && wallNanos() > sliceEnd) break;
    }
    if (cycles > 0) {
      this.busyCycles += cycles;
      this.busyNanos += wallNanos() - sliceStart;
      this.busySimulatedNanos += (cycles * 1e9) / board.rp2040.clkSys;
    }
    this.afterSlice();
    if (this.board !== board) return; // replaced by a reset in afterSlice
    if (clock.nanos < wallNanos() - this.wallStart && !stopped()) {
      this.kick(); // behind wall time: keep going after the event loop's turn
      return;
    }
    const next = clock.nextAlarm;
    let delayMs = IDLE_MS;
    if (board.resetRequested) delayMs = 1;
    else if (board.fault !== null) delayMs = IDLE_MS;
    else if (!core.waiting) delayMs = 0;
    else if (next) delayMs = Math.min(IDLE_MS, Math.max(0, (this.wallStart + next.nanos - wallNanos()) / 1e6));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delayMs);
  }

  /** Emulated cycles per wall second while executing, in MHz. */
  get mhz() {
    return this.busyNanos > 0 ? (this.busyCycles * 1e3) / this.busyNanos : 0;
  }
}

module.exports = { RunLoop };
