import { EventEmitter } from 'eventemitter3';
import { type Backend, type BackendChannel, type BackendChannelInit, type BackendConfig, type BackendConnection, DEFAULT_RELIABLE_QUEUE_BYTES } from './backend.js';
import { DataChannel, type DataChannelOwner } from './data-channel.js';
import { RtcError } from './errors.js';
import { type IceServerConfig, parseIceServers } from './ice-servers.js';
import { BOOLEAN, type OptionSpecs, checkOption, integerRule, nonEmptyStringRule, oneOfRule, optionDefaults, optionError, resolveOptions } from './option-resolver.js';
import { checkCandidate, checkSessionDescription, mediaIds } from './description-checks.js';
import { ConnectionState, GatheringState, SignalingState } from './states.js';

/** The configuration of {@link PeerConnection.initialize}: Godot's dictionary, plus rtcmesh's limits. */
export interface PeerConnectionConfig {
  /** STUN and TURN servers, in Godot's and the W3C's shape. Default: none (host candidates only). */
  iceServers?: readonly IceServerConfig[];
  /** `relay` uses TURN relays only. Default `all`. */
  iceTransportPolicy?: 'all' | 'relay';
  /** Local UDP ports ICE may use, inclusive. Default: any. */
  portRange?: { begin: number; end: number };
  /** The local address ICE gathers on (`127.0.0.1` keeps a test on loopback). Default: every interface. */
  bindAddress?: string;
  /** The largest message this side accepts, announced to the remote. Default 262144 (256 KiB). */
  maxMessageSize?: number;
  /** Bytes each channel may hold received and unread; past it, arrivals are dropped and counted. Default 4 MiB. */
  receiveLimitBytes?: number;
  /** Channels the remote may open in-band; further ones are closed at once. Default 64. */
  maxReceivedChannels?: number;
  /** Candidates held while no remote description is set; more throw ERR_OUT_OF_MEMORY. Default 64. */
  maxHeldCandidates?: number;
}

/** Options of {@link PeerConnection.createDataChannel}, as Godot's `create_data_channel` takes them. */
export interface DataChannelOptions {
  /** Both sides create the channel with the same `id` instead of announcing it in-band. Needs `id`. */
  negotiated?: boolean;
  /** SCTP stream id, 0 to 1023; only with `negotiated`. */
  id?: number;
  /** Milliseconds a message may be retransmitted; excludes `maxRetransmits`. */
  maxPacketLifeTime?: number;
  /** Times a message may be retransmitted; excludes `maxPacketLifeTime`. */
  maxRetransmits?: number;
  /** Deliver in order. Default true. */
  ordered?: boolean;
  /** Subprotocol name, told to the remote. */
  protocol?: string;
}

/** The events of a {@link PeerConnection}, Godot's signals; delivered only inside `poll()`. */
export interface PeerConnectionEvents {
  /** Godot `session_description_created`: pass it to `setLocalDescription` and to the remote. */
  sessionDescriptionCreated: (type: 'offer' | 'answer', sdp: string) => void;
  /** Godot `ice_candidate_created`: send it to the remote's `addIceCandidate`. */
  iceCandidateCreated: (media: string, index: number, name: string) => void;
  /** Godot `data_channel_received`: the remote opened an in-band channel. */
  dataChannelReceived: (channel: DataChannel) => void;
}

type EngineEvent =
  | { kind: 'description'; type: 'offer' | 'answer'; sdp: string }
  | { kind: 'candidate'; mid: string; candidate: string }
  | { kind: 'connection'; state: ConnectionState }
  | { kind: 'gathering'; state: GatheringState }
  | { kind: 'signaling'; state: SignalingState }
  | { kind: 'channel'; channel: BackendChannel };

const PEER_CONNECTION_LIMIT_SPECS: OptionSpecs<Required<Pick<PeerConnectionConfig, 'maxMessageSize' | 'receiveLimitBytes' | 'maxReceivedChannels' | 'maxHeldCandidates'>>> = {
  maxMessageSize: { default: 262144, rule: integerRule(1) },
  receiveLimitBytes: { default: 4 * 1024 * 1024, rule: integerRule(1) },
  maxReceivedChannels: { default: 64, rule: integerRule(1) },
  maxHeldCandidates: { default: 64, rule: integerRule(1) },
};

const ICE_TRANSPORT_POLICY = { rule: oneOfRule(['all', 'relay']) };
const PORT = integerRule(1, 65535);
const BIND_ADDRESS = { rule: nonEmptyStringRule('"127.0.0.1"') };
const CONFIG_OWNER = 'PeerConnectionConfig';

/** The defaults of the numeric {@link PeerConnectionConfig} fields, as docs/api.md lists them. */
export const PEER_CONNECTION_DEFAULTS = optionDefaults(PEER_CONNECTION_LIMIT_SPECS);
/** Highest SCTP stream id a channel may take: libdatachannel's default stream count is 1024. */
export const MAX_CHANNEL_ID = 1023;
const MAX_LABEL_LENGTH = 1024;
const MAX_RELIABILITY_VALUE = 65535;
const RELIABILITY_VALUE = integerRule(0, MAX_RELIABILITY_VALUE);
const CHANNEL_OWNER = 'DataChannelOptions';

const CHANNEL_OPTION_SPECS: OptionSpecs<{
  negotiated: boolean;
  id: number | undefined;
  maxPacketLifeTime: number | undefined;
  maxRetransmits: number | undefined;
  ordered: boolean;
  protocol: string;
}> = {
  negotiated: { default: false, rule: BOOLEAN },
  id: { default: undefined, rule: integerRule(0, MAX_CHANNEL_ID), advice: 'the same on both sides' },
  maxPacketLifeTime: { default: undefined, rule: RELIABILITY_VALUE, advice: 'milliseconds' },
  maxRetransmits: { default: undefined, rule: RELIABILITY_VALUE },
  ordered: { default: true, rule: BOOLEAN },
  protocol: {
    default: '',
    rule: { expected: `a string of at most ${MAX_LABEL_LENGTH} characters`, accepts: (value) => typeof value === 'string' && value.length <= MAX_LABEL_LENGTH },
  },
};

let defaultBackend: Backend | undefined;

/**
 * One connection to one remote: Godot's `WebRTCPeerConnection`. Everything the engine reports
 * is queued and delivered, in arrival order, inside `poll()`; state getters answer as of the last
 * `poll()`; after `close()` nothing is emitted.
 */
export class PeerConnection extends EventEmitter<PeerConnectionEvents> implements DataChannelOwner {
  /** Godot `set_default_extension`: the engine every new PeerConnection runs on. */
  static setDefaultBackend(backend: Backend): void {
    defaultBackend = backend;
  }

  /** The engine new PeerConnections run on, or undefined before any was set. */
  static getDefaultBackend(): Backend | undefined {
    return defaultBackend;
  }

  private readonly backend: Backend;
  private config: BackendConfig & Required<Pick<PeerConnectionConfig, 'receiveLimitBytes' | 'maxReceivedChannels' | 'maxHeldCandidates'>>;
  private engine: BackendConnection | undefined;
  // Bumped on each new engine connection, so late callbacks of an older one are ignored.
  private generation = 0;
  private closed = false;
  private readonly pendingEvents: EngineEvent[] = [];
  private readonly channels = new Set<DataChannel>();
  /**
   * The channels the next poll looks at, the first `dueCount` entries (each says when it becomes
   * due), and a spare list to swap in. Neither is shortened (setting an array's length is a
   * runtime call, and the server's poll would make one per client each frame): a slot polled is
   * emptied, so that a closed channel is not kept.
   */
  private dueChannels: (DataChannel | undefined)[] = [];
  private dueCount = 0;
  private spareDueChannels: (DataChannel | undefined)[] = [];
  private receivedChannelCount = 0;
  private readonly usedIds = new Set<number>();
  private createdDescription: { type: 'offer' | 'answer'; sdp: string } | undefined;
  private localMids: string[] = [];
  private offered = false;
  private remoteMids: string[] | undefined;
  private heldCandidates: Array<[mid: string, index: number, candidate: string]> = [];
  private connectionState = ConnectionState.New;
  private gatheringState = GatheringState.New;
  private signalingState = SignalingState.Stable;

  /** @param backend the engine to run on; default: the one `setDefaultBackend` chose. */
  constructor(backend?: Backend) {
    super();
    const chosen = backend ?? defaultBackend;
    if (!chosen) {
      throw new RtcError('ERR_UNCONFIGURED', 'no WebRTC backend: import "rtcmesh" (Node.js) or call PeerConnection.setDefaultBackend().');
    }
    this.backend = chosen;
    this.config = normalizeConfig({});
  }

  /** @internal The reliable bytes the multiplayer peer may let wait in this connection's engine (Backend.reliableQueueBytes). */
  get reliableQueueBytes(): number {
    return this.backend.reliableQueueBytes ?? DEFAULT_RELIABLE_QUEUE_BYTES;
  }

  /**
   * Godot `initialize`: sets the configuration and starts afresh (state New), closing any
   * connection this object had.
   * @throws RtcError ERR_INVALID_PARAMETER for a configuration that cannot work.
   */
  initialize(config: PeerConnectionConfig = {}): void {
    const normalized = normalizeConfig(config);
    this.close();
    this.config = normalized;
    this.closed = false;
    this.connectionState = ConnectionState.New;
    this.gatheringState = GatheringState.New;
    this.signalingState = SignalingState.Stable;
  }

  /**
   * rtcmesh: a new PeerConnection, state New, on this one's backend and with its configuration:
   * a second connection to the same remote (the mesh's state connection).
   */
  createSibling(): PeerConnection {
    const sibling = new PeerConnection(this.backend);
    sibling.config = this.config;
    return sibling;
  }

  /**
   * Godot `create_data_channel`. Keep no reference if you like: the connection keeps its channels
   * until they close.
   * @throws RtcError ERR_UNAVAILABLE once negotiation has started; ERR_INVALID_PARAMETER for options
   * Godot rejects; ERR_ALREADY_IN_USE for a negotiated id already taken.
   */
  createDataChannel(label: string, options: DataChannelOptions = {}): DataChannel {
    this.checkOpen();
    if (this.offered || this.remoteMids) {
      throw new RtcError('ERR_UNAVAILABLE', 'negotiation has started: create every channel before createOffer() or setRemoteDescription().');
    }
    const init = checkChannelOptions(label, options);
    if (init.id !== undefined && this.usedIds.has(init.id)) {
      throw new RtcError('ERR_ALREADY_IN_USE', `channel id ${init.id} is taken on this connection: pick another id.`);
    }
    const engineChannel = this.ensureEngine().createDataChannel(label, init);
    if (init.id !== undefined) this.usedIds.add(init.id);
    return this.adoptChannel(engineChannel);
  }

  /**
   * Godot `create_offer`: the offer arrives as `sessionDescriptionCreated('offer', sdp)` on poll.
   * @throws RtcError ERR_UNCONFIGURED with no channel to negotiate; ERR_UNAVAILABLE once negotiation started.
   */
  createOffer(): void {
    this.checkOpen();
    if (this.channels.size === 0) {
      throw new RtcError('ERR_UNCONFIGURED', 'an offer needs something to negotiate: call createDataChannel() first.');
    }
    if (this.offered || this.remoteMids) {
      throw new RtcError('ERR_UNAVAILABLE', 'this connection has already offered or answered: initialize() to start again.');
    }
    this.offered = true;
    this.ensureEngine().createOffer();
  }

  /**
   * Godot `set_local_description`: applies the description `sessionDescriptionCreated` gave (the
   * node-datachannel and browser backends apply it as they create it: there this checks it).
   * @throws RtcError ERR_INVALID_PARAMETER for any other description.
   */
  setLocalDescription(type: 'offer' | 'answer', sdp: string): void {
    this.checkOpen();
    const created = this.createdDescription;
    if (!created || created.type !== type || created.sdp !== sdp) {
      throw new RtcError(
        'ERR_INVALID_PARAMETER',
        'pass setLocalDescription() exactly the type and SDP that sessionDescriptionCreated emitted.',
      );
    }
    this.ensureEngine().setLocalDescription(type, sdp);
  }

  /**
   * Godot `set_remote_description`: an offer makes this side answer, through
   * `sessionDescriptionCreated('answer', sdp)` on poll.
   * @throws RtcError ERR_INVALID_PARAMETER for malformed text or a description the engine refuses;
   * ERR_ALREADY_EXISTS for a second remote description; ERR_UNCONFIGURED for an answer to no offer.
   */
  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void {
    this.checkOpen();
    checkSessionDescription(type, sdp);
    if (this.remoteMids) {
      throw new RtcError('ERR_ALREADY_EXISTS', 'the remote description is already set: rtcmesh does not renegotiate; initialize() to start again.');
    }
    if (type === 'answer' && !this.offered) {
      throw new RtcError('ERR_UNCONFIGURED', 'an answer needs an offer from this side: call createOffer() first.');
    }
    if (type === 'offer' && this.offered) {
      throw new RtcError('ERR_UNAVAILABLE', 'this side has offered already; both sides offering (glare) is not supported.');
    }
    try {
      this.ensureEngine().setRemoteDescription(type, sdp);
    } catch (error) {
      throw new RtcError('ERR_INVALID_PARAMETER', `the engine refused the remote description: ${messageOf(error)}`);
    }
    this.remoteMids = mediaIds(sdp);
    for (const [mid, index, candidate] of this.heldCandidates.splice(0)) {
      try {
        this.applyCandidate(mid, index, candidate);
      } catch {
        // A bad held candidate is dropped: it was the remote's, and the caller has moved on.
      }
    }
  }

  /**
   * Godot `add_ice_candidate`: a candidate the remote sent. Held until the remote description is set.
   * @throws RtcError ERR_INVALID_PARAMETER for malformed text; ERR_OUT_OF_MEMORY past the held limit.
   */
  addIceCandidate(media: string, index: number, name: string): void {
    this.checkOpen();
    checkCandidate(media, index, name);
    if (!this.remoteMids) {
      if (this.heldCandidates.length >= this.config.maxHeldCandidates) {
        throw new RtcError('ERR_OUT_OF_MEMORY', `over ${this.config.maxHeldCandidates} candidates before the remote description: set it first.`);
      }
      this.heldCandidates.push([media, index, name]);
      return;
    }
    this.applyCandidate(media, index, name);
  }

  /** Godot `poll`: delivers what the engine reported since the last poll, in order. */
  poll(): void {
    if (this.closed) return;
    this.engine?.poll?.();
    const count = this.dueCount;
    if (count > 0) {
      const due = this.dueChannels;
      // Swapped first: a channel still opening, or hearing from the engine meanwhile, is due again next poll.
      this.dueChannels = this.spareDueChannels;
      this.dueCount = 0;
      for (let n = 0; n < count; n++) {
        const channel = due[n]!;
        due[n] = undefined;
        channel.pollDue();
      }
      this.spareDueChannels = due;
    }
    const generation = this.generation;
    let event: EngineEvent | undefined;
    while (!this.closed && generation === this.generation && (event = this.pendingEvents.shift())) {
      this.deliver(event);
    }
  }

  /** Godot `close`: closes the connection and its channels; drops what is queued; emits nothing after. */
  close(): void {
    if (this.engine) {
      for (const channel of this.channels) channel.connectionClosed();
      this.engine.close();
      this.engine = undefined;
    }
    this.generation++;
    this.closed = true;
    this.pendingEvents.length = 0;
    this.channels.clear();
    this.dueChannels = [];
    this.dueCount = 0;
    this.usedIds.clear();
    this.receivedChannelCount = 0;
    this.heldCandidates = [];
    this.createdDescription = undefined;
    this.localMids = [];
    this.offered = false;
    this.remoteMids = undefined;
    this.connectionState = ConnectionState.Closed;
    this.signalingState = SignalingState.Closed;
  }

  /** Godot `get_connection_state`, as of the last poll. */
  getConnectionState(): ConnectionState {
    return this.connectionState;
  }

  /** Godot `get_gathering_state`, as of the last poll. */
  getGatheringState(): GatheringState {
    return this.gatheringState;
  }

  /** Godot `get_signaling_state`, as of the last poll. */
  getSignalingState(): SignalingState {
    return this.signalingState;
  }

  /** @internal A channel has news, or is still opening: the next poll polls it. */
  channelDue(channel: DataChannel): void {
    this.dueChannels[this.dueCount++] = channel;
  }

  /** @internal A channel closed: the connection stops polling it. */
  channelClosed(channel: DataChannel): void {
    this.channels.delete(channel);
  }

  private deliver(event: EngineEvent): void {
    switch (event.kind) {
      case 'description':
        this.createdDescription = { type: event.type, sdp: event.sdp };
        this.localMids = mediaIds(event.sdp);
        this.emit('sessionDescriptionCreated', event.type, event.sdp);
        break;
      case 'candidate': {
        const index = Math.max(0, this.localMids.indexOf(event.mid));
        // The W3C form, without "a=": what browsers and Godot's JavaScript build accept.
        this.emit('iceCandidateCreated', event.mid, index, event.candidate.replace(/^a=/, ''));
        break;
      }
      case 'connection':
        this.connectionState = event.state;
        break;
      case 'gathering':
        this.gatheringState = event.state;
        break;
      case 'signaling':
        this.signalingState = event.state;
        break;
      case 'channel': {
        const channel = this.adoptChannel(event.channel);
        channel.poll();
        this.emit('dataChannelReceived', channel);
        break;
      }
    }
  }

  private applyCandidate(media: string, index: number, name: string): void {
    const mid = media !== '' ? media : (this.remoteMids?.[index] ?? String(index));
    try {
      this.ensureEngine().addRemoteCandidate(mid, name);
    } catch (error) {
      throw new RtcError('ERR_INVALID_PARAMETER', `the engine refused the candidate: ${messageOf(error)}`);
    }
  }

  private adoptChannel(engineChannel: BackendChannel): DataChannel {
    const channel = new DataChannel(engineChannel, this, this.config.receiveLimitBytes, this.config.maxMessageSize);
    this.channels.add(channel);
    // A channel starts due: it is opening.
    this.channelDue(channel);
    return channel;
  }

  private ensureEngine(): BackendConnection {
    if (this.engine) return this.engine;
    const generation = this.generation;
    const queue = (event: EngineEvent): void => {
      if (generation === this.generation) this.pendingEvents.push(event);
    };
    this.engine = this.backend.createConnection(this.config, {
      localDescription: (type, sdp) => queue({ kind: 'description', type, sdp }),
      localCandidate: (mid, candidate) => queue({ kind: 'candidate', mid, candidate }),
      connectionState: (state) => queue({ kind: 'connection', state }),
      gatheringState: (state) => queue({ kind: 'gathering', state }),
      signalingState: (state) => queue({ kind: 'signaling', state }),
      dataChannel: (channel) => {
        if (generation !== this.generation) return;
        // The remote chooses how many channels it opens: past the limit they are refused.
        if (++this.receivedChannelCount > this.config.maxReceivedChannels) channel.close();
        else queue({ kind: 'channel', channel });
      },
    });
    return this.engine;
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new RtcError('ERR_UNCONFIGURED', 'this connection is closed: call initialize() to start a new one.');
    }
  }
}

/**
 * The configuration `initialize()` would run on, checked and with its defaults: for a layer that
 * takes a PeerConnectionConfig to refuse a bad one when it is given, before any connection exists.
 * @throws RtcError ERR_INVALID_PARAMETER naming the first option that is out of range.
 */
export function normalizeConfig(config: PeerConnectionConfig): PeerConnection['config'] {
  const limits = resolveOptions(CONFIG_OWNER, PEER_CONNECTION_LIMIT_SPECS, config);
  const policy = config.iceTransportPolicy ?? 'all';
  checkOption(CONFIG_OWNER, 'iceTransportPolicy', ICE_TRANSPORT_POLICY, policy);
  const normalized: PeerConnection['config'] = { iceServers: parseIceServers(config.iceServers ?? []), iceTransportPolicy: policy, ...limits };
  if (config.bindAddress !== undefined) {
    normalized.bindAddress = checkOption(CONFIG_OWNER, 'bindAddress', BIND_ADDRESS, config.bindAddress) as string;
  }
  if (config.portRange !== undefined) {
    const range: unknown = config.portRange;
    if (range === null || typeof range !== 'object') throw optionError(CONFIG_OWNER, 'portRange', '{ begin, end }, ports 1 to 65535', range);
    const { begin, end } = range as { begin: unknown; end: unknown };
    checkOption(CONFIG_OWNER, 'portRange.begin', { rule: PORT }, begin);
    checkOption(CONFIG_OWNER, 'portRange.end', { rule: PORT }, end);
    if ((begin as number) > (end as number)) throw optionError(CONFIG_OWNER, 'portRange.end', `${begin as number} or more, as begin is`, end);
    normalized.portRange = { begin: begin as number, end: end as number };
  }
  return normalized;
}

function checkChannelOptions(label: string, options: DataChannelOptions): BackendChannelInit {
  if (typeof label !== 'string' || label.length > MAX_LABEL_LENGTH) {
    throw new RtcError('ERR_INVALID_PARAMETER', `a channel label is a string of at most ${MAX_LABEL_LENGTH} characters.`);
  }
  const { negotiated, id, maxPacketLifeTime, maxRetransmits, ordered, protocol } = resolveOptions(CHANNEL_OWNER, CHANNEL_OPTION_SPECS, options);
  if (negotiated && id === undefined) throw optionError(CHANNEL_OWNER, 'id', 'set on a negotiated channel', id, 'the same on both sides');
  if (id !== undefined && !negotiated) throw optionError(CHANNEL_OWNER, 'negotiated', 'true on a channel with an id', negotiated, 'or drop the id');
  if (maxPacketLifeTime !== undefined && maxRetransmits !== undefined) {
    throw optionError(CHANNEL_OWNER, 'maxRetransmits', 'left out beside maxPacketLifeTime', maxRetransmits, 'set one of the two');
  }
  const init: BackendChannelInit = { ordered, negotiated, protocol };
  if (id !== undefined) init.id = id;
  if (maxPacketLifeTime !== undefined) init.maxPacketLifeTime = maxPacketLifeTime;
  if (maxRetransmits !== undefined) init.maxRetransmits = maxRetransmits;
  return init;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
