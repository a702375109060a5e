import {
  BOOLEAN,
  FUNCTION,
  NON_NEGATIVE_NUMBER,
  type OptionSpecs,
  POSITIVE_NUMBER,
  checkOption,
  optionDefaults,
  resolveOptions,
} from '../transport/option-resolver.js';
import { clockMs } from './clock.js';

/** The options of a {@link WebRTCMultiplayerPeer}: rtcmesh's limits and timings, beyond Godot's. */
export interface MeshOptions {
  /** Coalesce the packets put in one tick for a peer and channel, sent at `poll()` or `flush()`. Default true. */
  batching?: boolean;
  /**
   * Milliseconds between keepalive pings to each peer this side sends nothing else; four to five
   * times that while it does (the multiple set by the two peers' ids), since that traffic tells
   * the peer it is alive, once the clock estimate holds its 16 samples. Default 250.
   */
  keepaliveIntervalMs?: number;
  /** A peer from which nothing arrives for this long is dropped. Default 3000. */
  keepaliveTimeoutMs?: number;
  /** Unreliable packets for a peer silent this long are dropped at once rather than queued. Default 1000. */
  silenceThresholdMs?: number;
  /** A connection that ICE reports Disconnected may recover for this long before the peer is dropped. Default 3000. */
  disconnectGraceMs?: number;
  /** Bytes each channel of each peer may hold received and unread; past it, packets are dropped. Default 4 MiB. */
  receiveLimitBytes?: number;
  /** An unreliable send is dropped while its channel's send buffer holds more than this. Default 256 KiB. */
  unreliableBufferLimitBytes?: number;
  /**
   * A reliable send is refused once this much is buffered for the peer's channel; with resumption
   * on, what was sent and not yet acknowledged counts too. Default 8 MiB.
   */
  reliableBufferLimitBytes?: number;
  /**
   * Milliseconds a peer whose link is lost is held, its session kept, for a new connection to
   * resume it (`replacePeerConnection`); 0, the default here, drops it at once. The signaling
   * client defaults to 10000.
   */
  reconnectGraceMs?: number;
  /**
   * Open a second connection to each peer, negotiated over the first once it is up, for the
   * keepalive and the unreliable channels: a reliable backlog then no longer delays them. Both
   * sides must set it. Costs a second handshake and the memory of a connection per peer. Default false.
   */
  stateConnection?: boolean;
  /**
   * The milliseconds every timing above is measured on, read once per call that needs it: a test
   * passes a clock it moves itself (with the in-memory backend's `ManualScheduler`). Both sides
   * of a link may run on different clocks, as on a network. Default: a monotonic clock anchored
   * at the Unix epoch.
   */
  clock?: () => number;
}

/** Every option, resolved. */
export type MeshLimits = Required<MeshOptions>;

const MESH_OPTION_SPECS: OptionSpecs<MeshLimits> = {
  batching: { default: true, rule: BOOLEAN },
  keepaliveIntervalMs: { default: 250, rule: POSITIVE_NUMBER },
  keepaliveTimeoutMs: { default: 3000, rule: POSITIVE_NUMBER },
  silenceThresholdMs: { default: 1000, rule: POSITIVE_NUMBER },
  disconnectGraceMs: { default: 3000, rule: POSITIVE_NUMBER },
  receiveLimitBytes: { default: 4 * 1024 * 1024, rule: POSITIVE_NUMBER },
  unreliableBufferLimitBytes: { default: 256 * 1024, rule: POSITIVE_NUMBER },
  reliableBufferLimitBytes: { default: 8 * 1024 * 1024, rule: POSITIVE_NUMBER },
  reconnectGraceMs: { default: 0, rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds, 0 to turn resumption off' },
  stateConnection: { default: false, rule: BOOLEAN },
  clock: { default: clockMs, rule: FUNCTION, advice: 'one returning milliseconds' },
};

/** Every option's default, as documented in docs/api.md. */
export const MESH_OPTION_DEFAULTS: Readonly<MeshLimits> = optionDefaults(MESH_OPTION_SPECS);

/**
 * The shortest lifetime an unreliable channel gets, in milliseconds: Godot's default lifetime of
 * 1 ms would judge every packet stale, since the network alone takes longer.
 */
export const UNRELIABLE_LIFETIME_FLOOR_MS = 250;

/** Resolves and checks options; throws RtcError ERR_INVALID_PARAMETER naming the bad one. */
export function resolveMeshOptions(options: MeshOptions): MeshLimits {
  return resolveOptions('MeshOptions', MESH_OPTION_SPECS, options);
}

/** A new `reconnectGraceMs`, checked as the option is. */
export function checkReconnectGraceMs(ms: number): number {
  return checkOption('MeshOptions', 'reconnectGraceMs', MESH_OPTION_SPECS.reconnectGraceMs, ms) as number;
}
