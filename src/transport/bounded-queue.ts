/**
 * What one queued packet costs beyond its payload (the queue slot and its record): counted so a
 * flood of empty packets is bounded as surely as a flood of large ones.
 */
export const PER_PACKET_OVERHEAD_BYTES = 64;

// Compacting only once the consumed head is this long keeps shift() amortised O(1).
const COMPACT_AFTER = 1024;

/**
 * Slots an emptied queue keeps for its next items: a queue filled and read dry every poll would
 * otherwise grow its arrays from nothing each time; one emptied after a larger burst lets them go.
 */
const KEPT_SLOTS = 256;

/**
 * A FIFO bounded in bytes, whose items become readable only when `commit()` says so: items
 * arrive from the engine at any moment, and the poll contract shows them only after `poll()`.
 */
export class BoundedQueue<T> {
  /** The items from `head` to `tail`; a slot read is emptied, so that nothing read stays reachable. */
  private items: (T | undefined)[] = [];
  private costs: number[] = [];
  private head = 0;
  private tail = 0;
  private visibleEnd = 0;
  private queuedBytes = 0;

  /** @param limitBytes the most the queued items may cost together, overhead included. */
  constructor(public limitBytes: number) {}

  /** Appends an item of `size` payload bytes; false (nothing queued) when it would pass the limit. */
  push(item: T, size: number): boolean {
    const cost = size + PER_PACKET_OVERHEAD_BYTES;
    if (this.queuedBytes + cost > this.limitBytes) return false;
    this.items[this.tail] = item;
    this.costs[this.tail] = cost;
    this.tail++;
    this.queuedBytes += cost;
    return true;
  }

  /** Makes every item pushed so far readable. */
  commit(): void {
    this.visibleEnd = this.tail;
  }

  /** The oldest readable item, removed; undefined when none is readable. */
  shift(): T | undefined {
    const head = this.head;
    if (head >= this.visibleEnd) return undefined;
    const item = this.items[head]!;
    this.items[head] = undefined;
    this.queuedBytes -= this.costs[head]!;
    this.head = head + 1;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      this.visibleEnd = 0;
      if (this.items.length > KEPT_SLOTS) {
        this.items.length = 0;
        this.costs.length = 0;
      }
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.tail) {
      this.items.splice(0, this.head);
      this.costs.splice(0, this.head);
      this.tail -= this.head;
      this.visibleEnd -= this.head;
      this.head = 0;
    }
    return item;
  }

  /** How many items are readable. */
  get readableCount(): number {
    return this.visibleEnd - this.head;
  }

  /** How many items are queued, readable or not. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Drops every item. */
  clear(): void {
    this.items = [];
    this.costs = [];
    this.head = 0;
    this.tail = 0;
    this.visibleEnd = 0;
    this.queuedBytes = 0;
  }
}
