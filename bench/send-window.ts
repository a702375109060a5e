/**
 * The sender's flow control in the throughput scenarios, the same on both sides: send while
 * fewer than `highWater` bytes wait in the buffers; once there, pause until they fall under
 * `lowWater`. Raw reads node-datachannel's bufferedAmount(); rtcmesh its getPeerStats().bufferedBytes.
 */
export class SendWindow {
  private paused = false;

  constructor(
    private readonly highWater: number,
    private readonly lowWater: number,
  ) {}

  /** Bytes that may be sent now, given what is buffered. */
  room(buffered: number): number {
    if (this.paused) {
      if (buffered > this.lowWater) return 0;
      this.paused = false;
    }
    const room = this.highWater - buffered;
    if (room <= 0) this.paused = true;
    return Math.max(0, room);
  }
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** The window a user-loop sender keeps: 1 MiB / 256 KiB reliable, 256 / 64 KiB unreliable (rtcmesh's refusal point). */
export function userWindow(reliable: boolean): SendWindow {
  return reliable ? new SendWindow(MIB, 256 * KIB) : new SendWindow(256 * KIB, 64 * KIB);
}
