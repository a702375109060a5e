// Godot's MultiplayerSynchronizer for one entity: the object's replicated properties (read and
// checked by the synchronizer itself), the intervals at which they are sent, and who sees them.
import { EventEmitter } from 'eventemitter3';
import { RtcError } from '../transport/errors.js';
import { BOOLEAN, NON_NEGATIVE_NUMBER, type OptionSpecs, checkOption, optionDefaults, resolveOptions } from '../transport/option-resolver.js';
import type { ReplicationLayout, ResolvedProperty } from './replication-config.js';

/** The events of a {@link MultiplayerSynchronizer}, Godot's signals; inside `poll()`. */
export interface MultiplayerSynchronizerEvents {
  /** Godot `synchronized`: always-mode state from the authority was applied. */
  synchronized: () => void;
  /** Godot `delta_synchronized`: changed watched properties from the authority were applied. */
  deltaSynchronized: () => void;
  /** Godot `visibility_changed`: the visibility for a peer (0: for all) was changed on this side. */
  visibilityChanged: (peerId: number) => void;
}

/** A visibility filter: whether the peer may see the entity. Godot `add_visibility_filter`. */
export type VisibilityFilter = (peerId: number) => boolean;

/** Where a synchronizer's interpolation takes its default time and its bound on extrapolation. */
export interface Timeline {
  /** The network time to draw at: now less the interpolation delay. */
  renderTime(): number;
  /** How far past its newest snapshot a value is extrapolated before it holds. */
  readonly maxExtrapolationMs: number;
}

/** A received snapshot of the `Always` properties: when the authority read them, and their values. */
interface Sample {
  readonly time: number;
  readonly values: readonly unknown[];
}

/** The snapshots a receiver keeps per entity for interpolation. */
export const INTERPOLATION_SAMPLES = 32;

/** The intervals and visibility a spawner gives its entities' synchronizers, and the game may change per entity. */
export interface SynchronizerOptions {
  /** Godot `replication_interval`: ms between always-mode sends; 0 sends at every `poll()`. Default 0. */
  replicationIntervalMs?: number;
  /** Godot `delta_interval`: ms between checks of watched properties; 0 checks at every `poll()`. Default 0. */
  deltaIntervalMs?: number;
  /** Godot `public_visibility`: visible to every peer unless a filter says no. Default true. */
  publicVisibility?: boolean;
}

/**
 * Replicates one object's declared properties from its authority to the peers that see it.
 * Each declared property that is a plain data property of the object becomes an accessor that
 * refuses, where it is set, a value that does not fit the declared type (`RtcError
 * ERR_INVALID_PARAMETER`); a property the object defines with its own getter is read and checked
 * when it is sent, and a bad value is reported as the API's `error` event.
 */
export class MultiplayerSynchronizer extends EventEmitter<MultiplayerSynchronizerEvents> {
  private intervalMs = 0;
  private deltaMs = 0;
  private visibleToAll = true;
  private readonly peerVisibility = new Map<number, boolean>();
  private readonly filters: VisibilityFilter[] = [];
  /** @internal The values of properties held here (an accessor installed), by layout index. */
  readonly values: unknown[];
  /** @internal Which properties are held here rather than read through the object's own getter. */
  readonly held: boolean[];
  /** @internal The watched values last sent, by watched index. */
  readonly lastWatched: unknown[];
  /** @internal The `Always` values read when last sent: reused while none changes. */
  lastAlways: readonly unknown[] | undefined;
  /** @internal When always-mode state and watched properties are next due. */
  nextSyncAt = 0;
  nextDeltaAt = 0;
  /** @internal Set when visibility may have changed: the replication interface re-evaluates it. */
  visibilityDirty = true;
  private readonly samples: Sample[] = [];
  private stateSender = 0;
  private stateTick = 0;

  /** @internal Made with each entity. */
  constructor(
    readonly object: object,
    /** @internal */
    readonly layout: ReplicationLayout,
    private readonly label: string,
    options: SynchronizerOptions,
    checkInitial: boolean,
    private readonly timeline: Timeline,
  ) {
    super();
    const resolved = resolveSynchronizerOptions(options);
    this.intervalMs = resolved.replicationIntervalMs;
    this.deltaMs = resolved.deltaIntervalMs;
    this.visibleToAll = resolved.publicVisibility;
    this.values = new Array<unknown>(layout.properties.length);
    this.held = layout.properties.map((property, index) => this.hold(property, index, checkInitial));
    this.lastWatched = layout.watchedProperties.map((property) => snapshot(this.values[property.index]));
  }

  /** Godot `replication_interval`, in ms. */
  get replicationIntervalMs(): number {
    return this.intervalMs;
  }

  set replicationIntervalMs(ms: number) {
    this.intervalMs = checkMilliseconds('MultiplayerSynchronizer', 'replicationIntervalMs', ms);
  }

  /** Godot `delta_interval`, in ms. */
  get deltaIntervalMs(): number {
    return this.deltaMs;
  }

  set deltaIntervalMs(ms: number) {
    this.deltaMs = checkMilliseconds('MultiplayerSynchronizer', 'deltaIntervalMs', ms);
  }

  /** Godot `public_visibility`. */
  get publicVisibility(): boolean {
    return this.visibleToAll;
  }

  set publicVisibility(visible: boolean) {
    this.visibleToAll = Boolean(visible);
    this.visibilityDirty = true;
    this.emit('visibilityChanged', 0);
  }

  /** Godot `set_visibility_for`: lets one peer see the entity (or not) when visibility is not public. */
  setVisibilityFor(peerId: number, visible: boolean): void {
    if (!Number.isInteger(peerId) || peerId < 1) throw new RtcError('ERR_INVALID_PARAMETER', 'setVisibilityFor takes a peer id from 1 up.');
    if (visible) this.peerVisibility.set(peerId, true);
    else this.peerVisibility.delete(peerId);
    this.visibilityDirty = true;
    this.emit('visibilityChanged', peerId);
  }

  /** Godot `get_visibility_for`: what `setVisibilityFor` said for that peer. */
  getVisibilityFor(peerId: number): boolean {
    return this.peerVisibility.get(peerId) ?? false;
  }

  /** Godot `add_visibility_filter`: a filter evaluated at every `poll()`; every filter must say yes. */
  addVisibilityFilter(filter: VisibilityFilter): void {
    if (typeof filter !== 'function') throw new RtcError('ERR_INVALID_PARAMETER', 'a visibility filter is a function of a peer id.');
    this.filters.push(filter);
    this.visibilityDirty = true;
  }

  /** Godot `remove_visibility_filter`. */
  removeVisibilityFilter(filter: VisibilityFilter): void {
    const index = this.filters.indexOf(filter);
    if (index >= 0) this.filters.splice(index, 1);
    this.visibilityDirty = true;
  }

  /** Godot `update_visibility`: re-evaluates visibility at the next `poll()` (for one peer, or 0: all). */
  updateVisibility(peerId = 0): void {
    this.visibilityDirty = true;
    this.emit('visibilityChanged', peerId);
  }

  /** Whether `peerId` may see the entity: public or allowed for that peer, and every filter agrees. */
  isVisibleTo(peerId: number): boolean {
    if (!this.visibleToAll && !this.peerVisibility.get(peerId)) return false;
    for (const filter of this.filters) if (!filter(peerId)) return false;
    return true;
  }

  /** @internal Whether visibility must be evaluated at every poll (filters may change their minds). */
  get hasFilters(): boolean {
    return this.filters.length > 0;
  }

  /**
   * @internal The current value of a property, checked.
   * @throws RtcError ERR_INVALID_PARAMETER for a value of the object's own getter that does not fit.
   */
  read(property: ResolvedProperty): unknown {
    const held = this.held[property.index];
    const value = held ? this.values[property.index] : (this.object as Record<string, unknown>)[property.name];
    // A held number or string was checked when set; an object (a vector, bytes, an `any` value)
    // may have been changed in place since.
    if (!held || (typeof value === 'object' && value !== null)) property.codec.check(value, `${this.label}.${property.name}`);
    return value;
  }

  /**
   * The value of an `Always` property at network time `at` (default: the spawner's render time,
   * now less the interpolation delay), between the two snapshots around it as the property's
   * interpolation says; past the newest, extrapolated from the last two for at most
   * `maxExtrapolationMs`, then held. Where no snapshot has arrived (on the authority), the
   * current value.
   * @throws RtcError ERR_INVALID_PARAMETER for a name that is not an `Always` property.
   */
  interpolate(name: string, at: number = this.timeline.renderTime()): unknown {
    const slot = this.layout.alwaysProperties.findIndex((property) => property.name === name);
    if (slot < 0) throw new RtcError('ERR_INVALID_PARAMETER', `${name} is not an Always property of ${this.label}: only those are interpolated.`);
    const property = this.layout.alwaysProperties[slot]!;
    const samples = this.samples;
    if (samples.length === 0) return this.read(property);
    let after = samples.findIndex((sample) => sample.time > at);
    if (after === 0) return samples[0]!.values[slot];
    if (after < 0) {
      if (samples.length === 1 || property.interpolation === 'step') return samples[samples.length - 1]!.values[slot];
      after = samples.length - 1;
      at = Math.min(at, samples[after]!.time + this.timeline.maxExtrapolationMs);
    }
    const from = samples[after - 1]!;
    const to = samples[after]!;
    if (property.interpolation === 'step') return from.values[slot];
    const share = (at - from.time) / (to.time - from.time);
    return blend(from.values[slot], to.values[slot], share, property.interpolation === 'angle' ? property.period : 0);
  }

  /**
   * @internal Applies `Always` state read at network time `time` in `tick` of `sender`'s stream;
   * false (nothing applied) for a tick not newer than the last applied from that sender.
   */
  receiveState(sender: number, tick: number, time: number, values: readonly unknown[]): boolean {
    if (sender !== this.stateSender) {
      this.stateSender = sender;
      this.stateTick = 0;
      this.samples.length = 0;
    }
    if (tick <= this.stateTick) return false;
    this.stateTick = tick;
    const always = this.layout.alwaysProperties;
    for (let index = 0; index < always.length; index++) this.apply(always[index]!.index, values[index]);
    if (this.samples.length > 0 && time <= this.samples[this.samples.length - 1]!.time) this.samples.length = 0;
    this.samples.push({ time, values });
    if (this.samples.length > INTERPOLATION_SAMPLES) this.samples.shift();
    return true;
  }

  /** @internal Writes a value that came from the authority (already decoded and valid). */
  apply(index: number, value: unknown): void {
    if (this.held[index]) this.values[index] = value;
    else (this.object as Record<string, unknown>)[this.layout.properties[index]!.name] = value;
  }

  // Turns a plain data property into a checked accessor; false where the object has its own accessor.
  private hold(property: ResolvedProperty, index: number, checkInitial: boolean): boolean {
    const descriptor = Object.getOwnPropertyDescriptor(this.object, property.name);
    const inherited = descriptor === undefined && property.name in this.object;
    if ((descriptor && !('value' in descriptor)) || inherited) return false;
    if (descriptor && (!descriptor.writable || !descriptor.configurable)) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${this.label}.${property.name} is read-only or not configurable: a replicated property must be writable.`);
    }
    if (!Object.isExtensible(this.object) && !descriptor) {
      throw new RtcError('ERR_INVALID_PARAMETER', `${this.label} is not extensible: give it every replicated property before it is spawned.`);
    }
    const label = `${this.label}.${property.name}`;
    const value = descriptor?.value;
    if (checkInitial) property.codec.check(value, label);
    this.values[index] = value;
    const values = this.values;
    Object.defineProperty(this.object, property.name, {
      configurable: true,
      enumerable: descriptor?.enumerable ?? true,
      get: () => values[index],
      set: (next: unknown) => {
        property.codec.check(next, label);
        values[index] = next;
      },
    });
    return true;
  }
}

/**
 * A value as it is now: objects are copied, so that a watched vector or byte array changed in
 * place still differs from what was last sent.
 */
export function snapshot(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

const MILLISECONDS = { rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds, 0 for every frame' };

const SYNCHRONIZER_OPTION_SPECS: OptionSpecs<Required<SynchronizerOptions>> = {
  replicationIntervalMs: { default: 0, ...MILLISECONDS },
  deltaIntervalMs: { default: 0, ...MILLISECONDS },
  publicVisibility: { default: true, rule: BOOLEAN },
};

/** The defaults of {@link SynchronizerOptions}, as docs/replication.md lists them. */
export const SYNCHRONIZER_OPTION_DEFAULTS: Readonly<Required<SynchronizerOptions>> = optionDefaults(SYNCHRONIZER_OPTION_SPECS);

/**
 * The options with their defaults.
 * @throws RtcError ERR_INVALID_PARAMETER for an interval that is not a number of ms, 0 or more.
 */
export function resolveSynchronizerOptions(options: SynchronizerOptions): Required<SynchronizerOptions> {
  return resolveOptions('SynchronizerOptions', SYNCHRONIZER_OPTION_SPECS, options);
}

// Blends two values of a numeric type; `period` > 0 takes the shorter way round a turn.
function blend(from: unknown, to: unknown, share: number, period: number): unknown {
  if (typeof from === 'number' && typeof to === 'number') {
    if (period <= 0) return from + (to - from) * share;
    const difference = ((((to - from) % period) + period * 1.5) % period) - period / 2;
    return from + difference * share;
  }
  const a = from as Record<string, number>;
  const b = to as Record<string, number>;
  const blended: Record<string, number> = { x: a.x! + (b.x! - a.x!) * share, y: a.y! + (b.y! - a.y!) * share };
  if ('z' in a) blended.z = a.z! + (b.z! - a.z!) * share;
  return blended;
}

/** `ms` when it is a number of milliseconds, 0 or more. @throws RtcError ERR_INVALID_PARAMETER naming `owner.name` otherwise. */
export function checkMilliseconds(owner: string, name: string, ms: number): number {
  return checkOption(owner, name, { rule: NON_NEGATIVE_NUMBER }, ms) as number;
}
