import { recordSize, writeRecord } from './framing.js';

/**
 * The least a lane's staging buffer is given once something is put: a few unreliable messages.
 * It is allocated at the first put, not with the lane: a server holds four lanes per client and
 * most never send.
 */
const FIRST_BYTES = 4 * 1024;

const NO_BUFFER = new Uint8Array(0);

/** Record ends kept once emptied: a burst of more packets leaves no larger array behind. */
const KEPT_ENDS = 1024;

/**
 * The packets put for one peer and channel and not yet sent, already framed as records, one after
 * another in one buffer: a put copies its packet in (the caller may reuse its own at once), and a
 * flush hands out runs of whole records as they lie, so batching allocates nothing per packet.
 * Each run comes with `headerRoom` bytes before it for the message header, written in place: the
 * buffer keeps that much free at its start, and a later run reuses the tail of one already sent.
 */
export class OutgoingRecords {
  private buffer = NO_BUFFER;
  private used: number;
  /**
   * Where each record ends in `buffer`, for the first `recordCount` entries; the array is only
   * shortened past {@link KEPT_ENDS} (setting its length every flush cost a server more than the
   * copy of its packets).
   */
  private readonly ends: number[] = [];
  private recordCount = 0;
  /** The first record not yet sent, and where it starts: sent records are reclaimed lazily. */
  private first = 0;
  private start: number;

  constructor(private readonly headerRoom = 0) {
    this.used = headerRoom;
    this.start = headerRoom;
  }

  /** Packets waiting. */
  get count(): number {
    return this.recordCount - this.first;
  }

  /** Bytes waiting, framing included. */
  get bytes(): number {
    return this.used - this.start;
  }

  /** Frames and appends a packet. */
  push(packet: Uint8Array): void {
    // `length`, not byteLength: the same for a Uint8Array, and a field read in Node's V8 (see putPacket).
    const size = packet.length;
    const needed = this.used + recordSize(size);
    if (needed > this.buffer.length) {
      this.compact();
      const stillNeeded = this.used + recordSize(size);
      if (stillNeeded > this.buffer.length) {
        const grown = new Uint8Array(Math.max(stillNeeded, this.buffer.length * 2, FIRST_BYTES));
        grown.set(this.buffer.subarray(0, this.used));
        this.buffer = grown;
      }
    }
    this.used = writeRecord(this.buffer, this.used, packet);
    this.ends[this.recordCount++] = this.used;
  }

  /**
   * Hands `send` consecutive runs of whole records, each at most `budget` bytes (a record larger
   * than that goes alone), until every record is out or `room` bytes have gone; keeps the rest.
   * A run is a view on this buffer, `headerRoom` free bytes and then the records, valid only
   * during the call: the engine copies what it sends.
   */
  drain(budget: number, room: number, send: (message: Uint8Array, count: number) => void): void {
    const ends = this.ends;
    const header = this.headerRoom;
    let runStart = this.start;
    let first = this.first;
    let n = first;
    const count = this.recordCount;
    for (; n < count; n++) {
      if (n > first && ends[n]! - runStart > budget) {
        send(this.buffer.subarray(runStart - header, ends[n - 1]!), n - first);
        room -= ends[n - 1]! - runStart;
        runStart = ends[n - 1]!;
        first = n;
        if (room <= 0) break;
      }
    }
    if (n === count && first < n) {
      send(this.buffer.subarray(runStart - header, this.used), n - first);
      first = n;
      runStart = this.used;
    }
    if (first === count) {
      this.clear();
      return;
    }
    this.first = first;
    this.start = runStart;
  }

  /** Drops every waiting packet. */
  clear(): void {
    this.used = this.headerRoom;
    this.recordCount = 0;
    if (this.ends.length > KEPT_ENDS) this.ends.length = KEPT_ENDS;
    this.first = 0;
    this.start = this.headerRoom;
  }

  /** Moves the waiting records to the front, behind the header room, reclaiming what was sent. */
  private compact(): void {
    const shift = this.start - this.headerRoom;
    if (shift === 0) return;
    this.buffer.copyWithin(this.headerRoom, this.start, this.used);
    const ends = this.ends;
    let kept = 0;
    for (let n = this.first; n < this.recordCount; n++) ends[kept++] = ends[n]! - shift;
    this.recordCount = kept;
    this.used -= shift;
    this.first = 0;
    this.start = this.headerRoom;
  }
}
