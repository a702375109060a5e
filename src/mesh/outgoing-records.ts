import { recordEnd, recordSize, writeRecord } from './framing.js';

/**
 * The least a lane's staging buffer is given once something is put: a few unreliable messages.
 * It is allocated at the first put, not with the lane: a server holds four lanes per client and
 * most never send.
 */
const FIRST_BYTES = 4 * 1024;

const NO_BUFFER = new Uint8Array(0);

/**
 * The packets put for one peer and channel and not yet sent, already framed as records, one after
 * another in one buffer: a put copies its packet in (the caller may reuse its own at once), and a
 * flush hands out runs of whole records as they lie, so batching allocates nothing per packet.
 * Each run comes with `headerRoom` bytes before it for the message header, written in place: the
 * buffer keeps that much free at its start, and a later run reuses the tail of one already sent.
 * A flush finds where each record ends from its length prefix, rather than from an array of ends
 * written at every put, which a sender's burst would grow, copying it at each step.
 */
export class OutgoingRecords {
  private buffer = NO_BUFFER;
  private used: number;
  /** Where the first record not yet sent starts: sent records are reclaimed lazily. */
  private start: number;
  private waiting = 0;

  constructor(private readonly headerRoom = 0) {
    this.used = headerRoom;
    this.start = headerRoom;
  }

  /** Packets waiting. */
  get count(): number {
    return this.waiting;
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
    this.waiting++;
  }

  /**
   * Hands `send` consecutive runs of whole records, each at most `budget` bytes (a record larger
   * than that goes alone), until every record is out or `room` bytes have gone; keeps the rest.
   * A run is a view on this buffer, `headerRoom` free bytes and then the records, valid only
   * during the call: the engine copies what it sends.
   */
  drain(budget: number, room: number, send: (message: Uint8Array, count: number) => void): void {
    const buffer = this.buffer;
    const header = this.headerRoom;
    const used = this.used;
    let runStart = this.start;
    let inRun = 0;
    let at = runStart;
    while (at < used) {
      const end = recordEnd(buffer, at);
      if (inRun > 0 && end - runStart > budget) {
        send(buffer.subarray(runStart - header, at), inRun);
        this.waiting -= inRun;
        room -= at - runStart;
        runStart = at;
        inRun = 0;
        if (room <= 0) break;
      }
      at = end;
      inRun++;
    }
    if (at === used && inRun > 0) {
      send(buffer.subarray(runStart - header, used), inRun);
      this.waiting -= inRun;
      runStart = used;
    }
    if (runStart === used) {
      this.clear();
      return;
    }
    this.start = runStart;
  }

  /** Drops every waiting packet. */
  clear(): void {
    this.used = this.headerRoom;
    this.start = this.headerRoom;
    this.waiting = 0;
  }

  /** Moves the waiting records to the front, behind the header room, reclaiming what was sent. */
  private compact(): void {
    const shift = this.start - this.headerRoom;
    if (shift === 0) return;
    this.buffer.copyWithin(this.headerRoom, this.start, this.used);
    this.used -= shift;
    this.start = this.headerRoom;
  }
}
