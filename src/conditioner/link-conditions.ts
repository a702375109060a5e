import { RtcError } from '../transport/errors.js';
import { NON_NEGATIVE_NUMBER, type OptionSpecs, PROBABILITY, checkOptions, optionDefaults } from '../transport/option-resolver.js';

const OWNER = 'LinkConditions';

/** What the link does to the datagrams of one direction, as netem would. */
export interface LinkConditions {
  /** Probability (0..1) that a datagram is dropped. Default 0. */
  loss: number;
  /** Fixed delay added to every datagram, in milliseconds. Default 0. */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs]; like netem, jitter alone can reorder. Default 0. */
  jitterMs: number;
  /** Probability (0..1) that a datagram is held back by `reorderDelayMs` so later ones overtake it. Default 0. */
  reorder: number;
  /** How long a datagram picked by `reorder` is held back. Default 20 ms. */
  reorderDelayMs: number;
  /** Probability (0..1) that a datagram is sent twice, each copy with its own delay. Default 0. */
  duplicate: number;
  /** The link's rate in bits a second (UDP payload); 0 is unlimited. Default 0. */
  bandwidthBitsPerSecond: number;
  /** With a bandwidth cap, a datagram that would wait longer than this for the link is dropped. Default 200 ms. */
  bandwidthQueueMs: number;
}

/** What happened to the datagrams of one direction. */
export interface LinkCounters {
  /** Datagrams that reached the conditioner. */
  received: number;
  receivedBytes: number;
  /** Datagrams sent on to the receiving peer, duplicates included. */
  forwarded: number;
  forwardedBytes: number;
  /** Dropped by `loss`. */
  dropped: number;
  /** Dropped because the link was cut, on arrival or while waiting in the delay queue. */
  droppedByCut: number;
  /** Dropped because the bandwidth cap's queue was `bandwidthQueueMs` deep already. */
  droppedByBandwidth: number;
  /** Dropped because the delay queue held `maxQueued` datagrams already. */
  droppedByOverflow: number;
  /** Dropped because the receiving peer's address was not known yet. */
  droppedUnroutable: number;
  /** Dropped because they came from an address that is not a candidate of the sending peer. */
  droppedUnknownSource: number;
  /** Extra copies made by `duplicate`. */
  duplicated: number;
  /** Datagrams held back by `reorder`. */
  reordered: number;
  /** Datagrams waiting in the delay queue now. */
  queued: number;
  /**
   * Candidates of the sending peer the conditioner did not pass on because it cannot relay them
   * (TCP, TURN relay, another address family or scope, or a second local address).
   */
  candidatesWithheld: number;
}

/** Extra hold of a packet picked for reordering, long enough that a steady stream overtakes it. */
const DEFAULT_REORDER_DELAY_MS = 20;
/** Like a router's buffer: a fifth of a second of backlog behind a bandwidth cap. */
const DEFAULT_BANDWIDTH_QUEUE_MS = 200;

const LINK_CONDITION_SPECS: OptionSpecs<LinkConditions> = {
  loss: { default: 0, rule: PROBABILITY },
  delayMs: { default: 0, rule: NON_NEGATIVE_NUMBER },
  jitterMs: { default: 0, rule: NON_NEGATIVE_NUMBER },
  reorder: { default: 0, rule: PROBABILITY },
  reorderDelayMs: { default: DEFAULT_REORDER_DELAY_MS, rule: NON_NEGATIVE_NUMBER },
  duplicate: { default: 0, rule: PROBABILITY },
  bandwidthBitsPerSecond: { default: 0, rule: NON_NEGATIVE_NUMBER, advice: '0 for no cap' },
  bandwidthQueueMs: { default: DEFAULT_BANDWIDTH_QUEUE_MS, rule: NON_NEGATIVE_NUMBER },
};

/** A perfect link: nothing lost, delayed, reordered, duplicated or capped. */
export const PERFECT_LINK: Readonly<LinkConditions> = optionDefaults(LINK_CONDITION_SPECS);

/**
 * Checks conditions given by the caller.
 * @throws RtcError ERR_INVALID_PARAMETER for an unknown field, a probability outside 0..1, or a
 * negative or infinite amount.
 */
export function checkConditions(conditions: Partial<LinkConditions>): void {
  checkOptions(OWNER, LINK_CONDITION_SPECS, conditions);
  for (const key of Object.keys(conditions)) {
    if (!(key in PERFECT_LINK)) throw new RtcError('ERR_INVALID_PARAMETER', `${OWNER}.${key} is not a link condition: use ${Object.keys(PERFECT_LINK).join(', ')}.`);
  }
}

/** Counters at zero. */
export function emptyCounters(): LinkCounters {
  return {
    received: 0,
    receivedBytes: 0,
    forwarded: 0,
    forwardedBytes: 0,
    dropped: 0,
    droppedByCut: 0,
    droppedByBandwidth: 0,
    droppedByOverflow: 0,
    droppedUnroutable: 0,
    droppedUnknownSource: 0,
    duplicated: 0,
    reordered: 0,
    queued: 0,
    candidatesWithheld: 0,
  };
}
