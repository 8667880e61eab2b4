'use strict';
/**
 * Runs a board's core against its simulated clock, never letting simulated time run
 * ahead of wall time: the core executes until the clock reaches its target, the wall
 * time elapsed since the board started less the lag; a core waiting (WFI/WFE) skips to
 * the next alarm only if that is not past the target, and otherwise sleeps until then
 * (or until `kick`, when the host or the wire brings something). rp2040js's own loop
 * jumps to the next alarm at once, which lets DHCP, TCP and keepalive timers fire ahead
 * of real peers.
 *
 * The lag is the wall time the emulator spent executing beyond what those cycles take
 * on the chip (it is several times slower): a long computation, such as a TLS
 * handshake's signature checks, takes the simulated time it takes on the real chip,
 * not the emulator's, so the firmware's own deadlines see the chip's timing. While the
 * core waits, the lag is paid back: the target runs at up to CATCH_UP times wall time
 * until it meets wall time again, so a board that mostly waits (on the UART, on the
 * network) keeps pace with its peers.
 */

/** Wall time one slice may take before Node's event loop gets a turn. */
const SLICE_MS = 10;
/** Longest sleep while the core waits and no alarm is due. */
const IDLE_MS = 20;
/** How much faster than wall time the target runs while the core waits with a lag. */
const CATCH_UP = 10;

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
    /** Nanoseconds the target is behind wall time (see the module docs). */
    this.lag = 0;
    /** When the last slice ended with the core waiting, or null. */
    this.waitingSince = null;
    this.kick();
  }

  /** The simulated time the core may run to now. */
  target(now) {
    return now - this.wallStart - this.lag;
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
    if (this.waitingSince !== null) {
      this.lag = Math.max(0, this.lag - (CATCH_UP - 1) * (sliceStart - this.waitingSince));
      this.waitingSince = null;
    }
    // An executing core runs on (its lag grows with it) but never past wall time; a
    // waiting one skips no further than the target.
    const elapsed = sliceStart - this.wallStart;
    const target = elapsed - this.lag;
    const sliceEnd = sliceStart + SLICE_MS * 1e6;
    let cycles = 0;
    let steps = 0;
    // After a reset request or a fault the core stops; the clock runs on (the UART
    // drains, the W5500 model keeps taking frames).
    const stopped = () => board.resetRequested || board.fault !== null;
    if (stopped() && clock.nanos < target) clock.tick(target - clock.nanos);
    while (!stopped()) {
      if (core.waiting) {
        if (clock.nanos >= target) break;
        const next = clock.nextAlarm;
        if (next && next.nanos <= target) clock.tick(Math.max(0, next.nanos - clock.nanos));
        else clock.tick(target - clock.nanos);
      } else {
        if (clock.nanos >= elapsed) break;
        const spent = core.executeInstruction();
        cycles += spent;
        clock.tick((spent * 1e9) / board.rp2040.clkSys);
      }
      if (++steps % 4096 === 0 && wallNanos() > sliceEnd) break;
    }
    if (cycles > 0) {
      const wall = wallNanos() - sliceStart;
      const simulated = (cycles * 1e9) / board.rp2040.clkSys;
      this.busyCycles += cycles;
      this.busyNanos += wall;
      this.busySimulatedNanos += simulated;
      this.lag += Math.max(0, wall - simulated);
    }
    this.afterSlice();
    if (this.board !== board) return; // replaced by a reset in afterSlice
    const now = wallNanos();
    const next = clock.nextAlarm;
    // More to run: an executing core not yet at wall time, or a waiting core's alarm
    // already due.
    const due = core.waiting ? next && next.nanos <= this.target(now) : clock.nanos < now - this.wallStart;
    if (due && !stopped()) {
      this.kick(); // go on after the event loop's turn
      return;
    }
    if (core.waiting && !stopped()) this.waitingSince = now;
    let delayMs = IDLE_MS;
    if (board.resetRequested) delayMs = 1;
    else if (board.fault !== null) delayMs = IDLE_MS;
    else if (!core.waiting) delayMs = 0;
    else if (next) {
      // While a lag is paid back the target runs faster than wall time: wake earlier.
      const rate = this.lag > 0 ? CATCH_UP : 1;
      delayMs = Math.min(IDLE_MS, Math.max(0, (next.nanos - this.target(now)) / rate / 1e6));
    }
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
