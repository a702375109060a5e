/**
 * What one queued packet costs beyond its payload (the queue slot and its record): counted so a
 * flood of empty packets is bounded as surely as a flood of large ones.
 */
export const PER_PACKET_OVERHEAD_BYTES = 64;

/** Items one chunk of a queue holds: what a burst adds is stored a chunk at a time, never copied. */
const CHUNK_ITEMS = 64;

/** A run of a queue's slots, an item and then its cost for each; the chunks of a queue are linked in order. */
interface Chunk<T> {
  readonly slots: (T | number | undefined)[];
  next: Chunk<T> | undefined;
}

/** Where a queue that holds no chunk yet writes: it is full, so the first push takes a chunk of its own. */
const NO_CHUNK: Chunk<never> = { slots: [], next: undefined };

/**
 * A FIFO bounded in bytes, whose items become readable only when `commit()` says so: items
 * arrive from the engine at any moment, and the poll contract shows them only after `poll()`.
 * Items are stored in chunks, taken as a burst needs them and let go of once read, rather than in
 * one array, which every burst past what it kept would grow, copying it at each step. An emptied
 * queue keeps the chunk it was reading.
 */
export class BoundedQueue<T> {
  private first: Chunk<T> = NO_CHUNK;
  /** The next item to read in `first`. */
  private firstAt = 0;
  private last: Chunk<T> = NO_CHUNK;
  /** The next free slot in `last`. */
  private lastAt = CHUNK_ITEMS;
  private queued = 0;
  private readable = 0;
  private queuedBytes = 0;

  /** @param limitBytes the most the queued items may cost together, overhead included. */
  constructor(public limitBytes: number) {}

  /** Appends an item of `size` payload bytes; false (nothing queued) when it would pass the limit. */
  push(item: T, size: number): boolean {
    const cost = size + PER_PACKET_OVERHEAD_BYTES;
    if (this.queuedBytes + cost > this.limitBytes) return false;
    if (this.lastAt === CHUNK_ITEMS) this.addChunk();
    const at = 2 * this.lastAt++;
    const slots = this.last.slots;
    slots[at] = item;
    slots[at + 1] = cost;
    this.queued++;
    this.queuedBytes += cost;
    return true;
  }

  /** Makes every item pushed so far readable. */
  commit(): void {
    this.readable = this.queued;
  }

  /** The oldest readable item, removed; undefined when none is readable. */
  shift(): T | undefined {
    if (this.readable === 0) return undefined;
    const chunk = this.first;
    const at = 2 * this.firstAt;
    const item = chunk.slots[at] as T;
    // Emptied, so that nothing read stays reachable.
    chunk.slots[at] = undefined;
    this.queuedBytes -= chunk.slots[at + 1] as number;
    this.readable--;
    if (--this.queued === 0) {
      // The last item was in the last chunk: writing starts again at its beginning.
      this.firstAt = 0;
      this.lastAt = 0;
    } else if (++this.firstAt === CHUNK_ITEMS) {
      this.first = chunk.next!;
      chunk.next = undefined;
      this.firstAt = 0;
    }
    return item;
  }

  /** How many items are readable. */
  get readableCount(): number {
    return this.readable;
  }

  /** How many items are queued, readable or not. */
  get length(): number {
    return this.queued;
  }

  /** Drops every item. */
  clear(): void {
    this.first = NO_CHUNK;
    this.firstAt = 0;
    this.last = NO_CHUNK;
    this.lastAt = CHUNK_ITEMS;
    this.queued = 0;
    this.readable = 0;
    this.queuedBytes = 0;
  }

  private addChunk(): void {
    const chunk: Chunk<T> = { slots: new Array<T | number | undefined>(2 * CHUNK_ITEMS), next: undefined };
    if (this.queued === 0) this.first = chunk;
    else this.last.next = chunk;
    this.last = chunk;
    this.lastAt = 0;
  }
}
