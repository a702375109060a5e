// The options of the signaling client, their defaults and their checks. Browser-safe.
import { channelLayout } from '../mesh/channel-layout.js';
import { type ChannelConfig, WebRTCMultiplayerPeer } from '../mesh/index.js';
import { type Backend, type PeerConnectionConfig, RtcError } from '../transport/index.js';
import { normalizeConfig } from '../transport/peer-connection.js';
import { BOOLEAN, NON_NEGATIVE_NUMBER, NON_NEGATIVE_OR_INFINITY, type OptionSpecs, STRING, checkOption, integerRule, nonEmptyStringRule, resolveOptions } from '../transport/option-resolver.js';

/**
 * The part of a W3C `WebSocket` the signaling client uses: the browser's, Node 22's global one
 * and the `ws` package's all fit. The handler fields are typed `unknown` because each of those
 * declares its own event types; the client checks every event it is handed.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  onopen: unknown;
  onmessage: unknown;
  onerror: unknown;
  onclose: unknown;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A constructor of {@link WebSocketLike} sockets, such as `globalThis.WebSocket` or `ws`'s `WebSocket`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The options of a {@link SignalingClient}; only `url` is required. */
export interface SignalingClientOptions {
  /** The signaling server's WebSocket URL, e.g. `ws://127.0.0.1:9080`. */
  url: string;
  /** The lobby to join. Default `''`: create a new lobby and be its host (peer 1). */
  lobby?: string;
  /**
   * The mode asked for when creating a lobby. Default true: every member connects to every other
   * (`createMesh`). False is server mode: the host is the server (`createServer`) and every other
   * member a client of it (`createClient`). A joiner follows the mode of the lobby, which the
   * server tells it (the `connected` event reports it), as Godot's demo client does.
   */
  mesh?: boolean;
  /**
   * Default false. True ends the session (4000) when the lobby joined is not in the mode `mesh`
   * asks for, instead of following the lobby's mode.
   */
  requireMode?: boolean;
  /** The configuration of every PeerConnection the client creates: ICE servers, bindAddress, limits. Default `{}`. */
  peerConfig?: PeerConnectionConfig;
  /** The WebRTC engine of every PeerConnection the client creates (a NetworkConditioner's, say). Default: PeerConnection's default. */
  backend?: Backend;
  /**
   * An entry for each extra channel (transfer channels 1, 2, …), the same modes on every member:
   * a TransferMode, or `{ mode, priority, weight }` (a lane, as `WebRTCMultiplayerPeer` takes it). Default `[]`.
   */
  channelsConfig?: readonly ChannelConfig[];
  /** Milliseconds after which an unreliable packet is stale, passed to `addPeer`. Default 1, as in Godot (rtcmesh floors it to 250). */
  unreliableLifetime?: number;
  /** The multiplayer peer the client sets up and adds peers to. Default: a new WebRTCMultiplayerPeer. */
  multiplayerPeer?: WebRTCMultiplayerPeer;
  /**
   * The WebSocket constructor. Default: the one given to `SignalingClient.setDefaultWebSocket`
   * (the Node entry of rtcmesh gives `ws`'s), else `globalThis.WebSocket`.
   */
  WebSocket?: WebSocketConstructor;
  /** The largest text frame accepted from the server, in UTF-8 bytes; a larger one ends the session. Default 65536, as the server's. */
  maxFrameBytes?: number;
  /** Frames received and not yet polled, at most; one more ends the session. Default 1024: all of a join into a full lobby. */
  maxQueuedMessages?: number;
  /**
   * Characters of frames received and not yet polled, at most (the protocol's JSON is ASCII, so
   * characters are bytes); past it the session ends. Default 1 MiB.
   */
  maxQueuedBytes?: number;
  /** Peers the server may introduce; further introductions are dropped and counted. Default 63: a full lobby of the server's default 64. */
  maxPeers?: number;
  /**
   * Milliseconds a session outlives a lost link: the `reconnectGraceMs` of the multiplayer peer
   * the client creates, and how long it tries to rejoin signaling with its session token when its
   * socket is lost. Default 10000; 0 turns resumption off. A `multiplayerPeer` you pass keeps its own.
   * Sessions resume only with a server that issues tokens (its own `reconnectGraceMs`).
   */
  reconnectGraceMs?: number;
  /**
   * A session token stored from `getSessionToken()` by an earlier process: joins as that member,
   * with its id and lobby, if the server still holds its seat. Its peers see it leave and join
   * again: what was in flight is gone. Default `''`: join as a new member.
   */
  token?: string;
  /**
   * Milliseconds a new connection has to come up; past it, or when it fails, `negotiationFailed`
   * reports why, and the member with the higher id offers again on a new connection (a message
   * relayed between signaling nodes may be lost). Default 10000; 0: no deadline (a connection that fails is still reported and offered again).
   */
  negotiationTimeoutMs?: number;
}

/** Why a message from the server was dropped; each is counted by `SignalingClient.getDroppedMessageCounts`. */
export type SignalingDropReason =
  /** Out of place: anything before the ID, a second ID or JOIN, an introduction after the seal. */
  | 'unexpected'
  /** An introduction the role forbids: a client's of anyone but the host, of itself, of a peer already known, of an id out of range. */
  | 'peerNotAllowed'
  /** An introduction past `maxPeers`. */
  | 'tooManyPeers'
  /** An introduction the multiplayer peer refused (`refuseNewConnections`). */
  | 'refused'
  /** An offer, answer, candidate or departure naming a peer that was never introduced. */
  | 'unknownPeer'
  /** An offer or answer the connection refused: malformed, or out of turn. */
  | 'badDescription'
  /** A candidate that does not parse, or that the connection refused. */
  | 'badCandidate';

/** Every drop reason, for iterating and for zeroed counters. */
export const SIGNALING_DROP_REASONS: readonly SignalingDropReason[] = [
  'unexpected',
  'peerNotAllowed',
  'tooManyPeers',
  'refused',
  'unknownPeer',
  'badDescription',
  'badCandidate',
];

/** Every option, resolved. */
export type ClientSettings = Required<Omit<SignalingClientOptions, 'multiplayerPeer' | 'backend'>> & Pick<SignalingClientOptions, 'backend'>;

/** The client's default {@link SignalingClientOptions.negotiationTimeoutMs}: past a TURN allocation and ICE checks on a slow network. */
export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 10_000;

/** The client's default {@link SignalingClientOptions.reconnectGraceMs}. */
export const DEFAULT_RECONNECT_GRACE_MS = 10_000;

const OWNER = 'SignalingClientOptions';

type CheckedSettings = Omit<ClientSettings, 'url' | 'backend' | 'WebSocket' | 'peerConfig' | 'channelsConfig'>;

const CLIENT_OPTION_SPECS: OptionSpecs<CheckedSettings> = {
  lobby: { default: '', rule: STRING, advice: "a lobby name, or '' to create one" },
  mesh: { default: true, rule: BOOLEAN },
  requireMode: { default: false, rule: BOOLEAN },
  // Godot's `add_peer` default.
  unreliableLifetime: { default: 1, rule: NON_NEGATIVE_OR_INFINITY, advice: 'milliseconds' },
  reconnectGraceMs: { default: DEFAULT_RECONNECT_GRACE_MS, rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds, 0 to turn resumption off' },
  token: { default: '', rule: STRING, advice: "a session token from getSessionToken(), or ''" },
  negotiationTimeoutMs: { default: DEFAULT_NEGOTIATION_TIMEOUT_MS, rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds, 0 for no deadline' },
  maxFrameBytes: { default: 65_536, rule: integerRule(1) },
  maxQueuedMessages: { default: 1024, rule: integerRule(1) },
  maxQueuedBytes: { default: 1024 * 1024, rule: integerRule(1) },
  maxPeers: { default: 63, rule: integerRule(1) },
};

const URL_SPEC = { rule: nonEmptyStringRule('"ws://127.0.0.1:9080"'), advice: "the signaling server's WebSocket URL" };

/**
 * Resolves and checks the options; throws RtcError ERR_INVALID_PARAMETER naming the bad one, or
 * ERR_UNCONFIGURED when no WebSocket constructor is to be had.
 */
export function resolveClientOptions(options: SignalingClientOptions, defaultWebSocket: WebSocketConstructor | undefined): ClientSettings {
  const checked = resolveOptions(OWNER, CLIENT_OPTION_SPECS, options);
  const WebSocket = options.WebSocket ?? defaultWebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocket !== 'function') {
    throw new RtcError(
      'ERR_UNCONFIGURED',
      'no WebSocket: pass options.WebSocket, call SignalingClient.setDefaultWebSocket(), or import "rtcmesh" in Node.js (it uses the ws package).',
    );
  }
  const settings: ClientSettings = {
    ...checked,
    url: checkOption(OWNER, 'url', URL_SPEC, options.url) as string,
    peerConfig: options.peerConfig ?? {},
    backend: options.backend,
    channelsConfig: options.channelsConfig ?? [],
    WebSocket,
  };
  checkConfigs(settings.peerConfig, settings.channelsConfig);
  return settings;
}

/**
 * Runs the configurations through the checks the connections and the multiplayer peer will
 * apply, so that a mistake throws here rather than inside `poll()` when the first peer arrives.
 */
function checkConfigs(peerConfig: PeerConnectionConfig, channelsConfig: readonly ChannelConfig[]): void {
  normalizeConfig(peerConfig);
  channelLayout(channelsConfig);
}
