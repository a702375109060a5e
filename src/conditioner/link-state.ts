import { checkConditions, emptyCounters, type LinkConditions, type LinkCounters, PERFECT_LINK } from './link-conditions.js';

/** One direction of a relayed link; each has its own conditions and counters. */
export type Direction = 'aToB' | 'bToA';

/** The conditions and counters of one direction. */
export interface DirectionState {
  readonly conditions: LinkConditions;
  readonly counters: LinkCounters;
}

/**
 * What a link does, both ways, and what it did: conditions, counters and the cut. A relay reads
 * it for every datagram, so a change takes effect at the next one; a conditioner shares one among
 * the relays of all its connections, which then add to the same counters.
 */
export class LinkState {
  readonly directions: Record<Direction, DirectionState>;
  private linkCut = false;

  /** @throws RtcError ERR_INVALID_PARAMETER for conditions {@link checkConditions} refuses. */
  constructor(conditions: Partial<Record<Direction, Partial<LinkConditions>>> = {}) {
    for (const each of Object.values(conditions)) checkConditions(each);
    this.directions = {
      aToB: { conditions: { ...PERFECT_LINK, ...conditions.aToB }, counters: emptyCounters() },
      bToA: { conditions: { ...PERFECT_LINK, ...conditions.bToA }, counters: emptyCounters() },
    };
  }

  /**
   * Changes the conditions of one direction or both, effective for the next datagram; unnamed
   * fields keep their value.
   * @throws RtcError ERR_INVALID_PARAMETER for conditions {@link checkConditions} refuses.
   */
  setConditions(direction: Direction | 'both', conditions: Partial<LinkConditions>): void {
    checkConditions(conditions);
    const directions: Direction[] = direction === 'both' ? ['aToB', 'bToA'] : [direction];
    for (const each of directions) Object.assign(this.directions[each].conditions, conditions);
  }

  /** The current conditions of one direction (a copy). */
  getConditions(direction: Direction): LinkConditions {
    return { ...this.directions[direction].conditions };
  }

  /** A snapshot of one direction's counters. */
  getCounters(direction: Direction): LinkCounters {
    return { ...this.directions[direction].counters };
  }

  /** Drops every datagram both ways, including those already in the delay queues, until {@link restore}. */
  cut(): void {
    this.linkCut = true;
  }

  /** Ends a {@link cut}: datagrams flow again under the current conditions. */
  restore(): void {
    this.linkCut = false;
  }

  /** Whether the link is cut. */
  get isCut(): boolean {
    return this.linkCut;
  }
}
