// The in-memory backend: connections of one process reach each other directly, through the same
// steps as on a network (description, answer, candidates), with delay, loss and a send rate that
// a test chooses, on the clock of a scheduler it may drive. Browser-safe: nothing here imports a
// Node module. What it imitates is libdatachannel's behaviour as rtcmesh sees it; the shared
// contract tests (test/transport/backend-contract) run it beside the real engines.
import type {
  Backend,
  BackendChannel,
  BackendChannelHandlers,
  BackendChannelInfo,
  BackendChannelInit,
  BackendConfig,
  BackendConnection,
  BackendConnectionHandlers,
} from '../backend.js';
import { BOOLEAN, NON_NEGATIVE_NUMBER, NON_NEGATIVE_OR_INFINITY, type OptionSpecs, PROBABILITY, checkOption, checkOptions } from '../option-resolver.js';
import { ConnectionState, GatheringState, SignalingState } from '../states.js';
import { type ManualScheduler, type MemoryScheduler, realTimeScheduler } from './memory-scheduler.js';

/** How the links between connections of one in-memory backend behave; changed with `setConditions`. */
export interface MemoryLinkConditions {
  /** One-way delay of every message and handshake step, in milliseconds. Default 0. */
  delayMs?: number;
  /** Extra delay, random from 0 to this, of each message on an unordered channel (reordering it). Default 0. */
  jitterMs?: number;
  /** Share of messages lost, 0 to 1, on channels with `maxRetransmits` or `maxPacketLifeTime`. Default 0. */
  lossRate?: number;
  /** Bytes each connection sends per millisecond; what waits counts in `bufferedAmount`. Default unlimited. */
  bytesPerMs?: number;
  /**
   * Nothing passes: unreliable messages are lost, reliable ones wait in the sender's queue, and
   * after `disconnectAfterMs` connected connections report Disconnected, Connected again once
   * unblocked. Default false.
   */
  blocked?: boolean;
}

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions {
  /** The clock and timers of every link. Default: the event loop's ({@link realTimeScheduler}). */
  scheduler?: MemoryScheduler;
  /** The links' first conditions. Default: no delay, no loss, no rate limit. */
  conditions?: MemoryLinkConditions;
  /** Random numbers 0 (inclusive) to 1 for loss and jitter; a seeded one makes runs repeat. Default `Math.random`. */
  random?: () => number;
  /** How long a blocked link stays Connected, as ICE's consent checks take to notice. Default 5000 ms. */
  disconnectAfterMs?: number;
}

/** A backend whose connections live in this process; see {@link createMemoryBackend}. */
export interface MemoryBackend extends Backend {
  /** Changes the conditions of every link from now on; fields left out keep their value. */
  setConditions(conditions: MemoryLinkConditions): void;
}

/** A perfect link: the conditions of a new in-memory backend unless told otherwise. */
export const MEMORY_LINK_DEFAULTS: Readonly<Required<MemoryLinkConditions>> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  lossRate: 0,
  bytesPerMs: Number.POSITIVE_INFINITY,
  blocked: false,
});

/** The defaults of {@link MemoryBackendOptions}. */
export const MEMORY_BACKEND_DEFAULTS: Readonly<Required<MemoryBackendOptions>> = Object.freeze({
  scheduler: realTimeScheduler,
  conditions: MEMORY_LINK_DEFAULTS,
  random: Math.random,
  disconnectAfterMs: 5000,
});

/** What a connection announces when its configuration says nothing (never: PeerConnection always does). */
const DEFAULT_MAX_MESSAGE_SIZE = 65536;
const textEncoder = new TextEncoder();

type MemoryChannelState = 'connecting' | 'open' | 'closed';

interface Datagram {
  channel: MemoryChannel;
  data: Uint8Array | string;
  size: number;
}

/** What every connection of one backend shares: the registry, the clock, the link conditions. */
class MemoryNetwork {
  readonly connections = new Map<string, MemoryConnection>();
  conditions: Required<MemoryLinkConditions> = { ...MEMORY_LINK_DEFAULTS };
  /** Blocks so far: a block's Disconnected falls due only if no other block began since. */
  private blocks = 0;
  private created = 0;

  constructor(
    readonly scheduler: MemoryScheduler,
    readonly random: () => number,
    private readonly disconnectAfterMs: number,
  ) {}

  nextId(): number {
    return ++this.created;
  }

  setConditions(conditions: MemoryLinkConditions): void {
    const wasBlocked = this.conditions.blocked;
    this.conditions = { ...this.conditions, ...checkConditions(conditions) };
    if (this.conditions.blocked && !wasBlocked) {
      const block = ++this.blocks;
      this.scheduler.schedule(this.disconnectAfterMs, () => {
        if (this.conditions.blocked && block === this.blocks) for (const connection of this.connections.values()) connection.linkLost();
      });
    } else if (!this.conditions.blocked && wasBlocked) {
      for (const connection of this.connections.values()) connection.linkRestored();
    }
  }
}

const LINK_CONDITION_SPECS: OptionSpecs<Required<MemoryLinkConditions>> = {
  delayMs: { default: MEMORY_LINK_DEFAULTS.delayMs, rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds' },
  jitterMs: { default: MEMORY_LINK_DEFAULTS.jitterMs, rule: NON_NEGATIVE_NUMBER, advice: 'milliseconds' },
  lossRate: { default: MEMORY_LINK_DEFAULTS.lossRate, rule: PROBABILITY },
  bytesPerMs: { default: MEMORY_LINK_DEFAULTS.bytesPerMs, rule: { expected: 'a number above 0 (Infinity for no limit)', accepts: (value) => typeof value === 'number' && value > 0 } },
  blocked: { default: MEMORY_LINK_DEFAULTS.blocked, rule: BOOLEAN },
};

const DISCONNECT_AFTER = { rule: NON_NEGATIVE_OR_INFINITY, advice: 'milliseconds' };

function checkConditions(conditions: MemoryLinkConditions): MemoryLinkConditions {
  checkOptions('MemoryLinkConditions', LINK_CONDITION_SPECS, conditions);
  return conditions;
}

class MemoryChannel implements BackendChannel {
  state: MemoryChannelState = 'connecting';
  id: number;
  /** Bytes of this channel waiting in the connection's send queue. */
  queued = 0;
  /** When the last message on this channel arrives: an ordered channel never overtakes it. */
  lastArrival = 0;
  private handlers: BackendChannelHandlers | undefined;
  private readonly early: Array<(handlers: BackendChannelHandlers) => void> = [];

  constructor(
    readonly info: BackendChannelInfo,
    private readonly connection: MemoryConnection,
  ) {
    this.id = info.id ?? -1;
  }

  get reliable(): boolean {
    return this.info.maxRetransmits === undefined && this.info.maxPacketLifeTime === undefined;
  }

  setHandlers(handlers: BackendChannelHandlers): void {
    this.handlers = handlers;
    for (const event of this.early.splice(0)) event(handlers);
  }

  poll(): void {
    // Every event is reported through the handlers.
  }

  currentId(): number {
    return this.id;
  }

  sendBinary(data: Uint8Array): boolean {
    // Copied now: the caller may reuse its buffer as soon as this returns.
    return this.send(data.slice(), data.byteLength);
  }

  sendText(text: string): boolean {
    return this.send(text, textEncoder.encode(text).byteLength);
  }

  bufferedAmount(): number {
    return this.queued;
  }

  maxMessageSize(): number {
    return this.connection.remoteMaxMessageSize;
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.connection.forget(this);
    this.connection.after(0, () => this.report((handlers) => handlers.closed()));
    // A stream reset: the remote's channel of the same id closes too.
    if (wasOpen) this.connection.toRemote(this.id, (remote) => remote.remoteClosed());
  }

  /** The connection came up (negotiated) or the remote acknowledged the channel (in-band). */
  opened(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.report((handlers) => handlers.open());
  }

  remoteClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.connection.forget(this);
    this.report((handlers) => handlers.closed());
  }

  /** The connection closed under this channel: it says nothing more. */
  dropped(): void {
    this.state = 'closed';
    this.early.length = 0;
    this.handlers = undefined;
  }

  arrived(data: Uint8Array | string): void {
    if (this.state === 'open') this.report((handlers) => handlers.message(data));
  }

  private send(data: Uint8Array | string, size: number): boolean {
    if (this.state !== 'open' || size > this.connection.remoteMaxMessageSize) return false;
    this.connection.enqueue({ channel: this, data, size });
    return true;
  }

  private report(event: (handlers: BackendChannelHandlers) => void): void {
    if (this.handlers) event(this.handlers);
    else this.early.push(event);
  }
}

class MemoryConnection implements BackendConnection {
  readonly ufrag: string;
  private readonly port: number;
  remoteMaxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  private state = ConnectionState.New;
  private closed = false;
  private offerer = false;
  private localApplied = false;
  private created: 'offer' | 'answer' | undefined;
  private remote: MemoryConnection | undefined;
  private candidateSeen = false;
  private readonly channels: MemoryChannel[] = [];
  private readonly sendQueue: Datagram[] = [];
  private sending = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly config: BackendConfig,
    private readonly handlers: BackendConnectionHandlers,
  ) {
    const id = network.nextId();
    this.ufrag = `mem${id}`;
    this.port = 1 + (id % 65535);
    network.connections.set(this.ufrag, this);
  }

  createOffer(): void {
    this.offerer = true;
    this.after(0, () => this.describe('offer'));
  }

  setLocalDescription(type: 'offer' | 'answer'): void {
    this.localApplied = true;
    this.handlers.signalingState(type === 'offer' ? SignalingState.HaveLocalOffer : SignalingState.Stable);
    this.after(0, () => {
      this.handlers.gatheringState(GatheringState.Gathering);
      this.handlers.localCandidate('0', `candidate:1 1 udp 2122260223 127.0.0.1 ${this.port} typ host`);
      this.handlers.gatheringState(GatheringState.Complete);
    });
    this.tryConnect();
  }

  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
    const remote = ufrag === undefined ? undefined : this.network.connections.get(ufrag);
    if (!remote || remote === this) throw new Error('no connection of this in-memory backend has that description');
    if (remote.remote !== undefined && remote.remote !== this) throw new Error('that connection is negotiating with another');
    const size = Number(/^a=max-message-size:(\d+)/m.exec(sdp)?.[1]);
    if (Number.isSafeInteger(size) && size > 0) this.remoteMaxMessageSize = size;
    this.remote = remote;
    if (type === 'offer') {
      this.handlers.signalingState(SignalingState.HaveRemoteOffer);
      this.after(0, () => this.describe('answer'));
    } else {
      this.handlers.signalingState(SignalingState.Stable);
    }
    this.tryConnect();
  }

  addRemoteCandidate(_mid: string, candidate: string): void {
    // Only the remote's own address leads anywhere; any other candidate is one ICE never reaches.
    const port = Number(/ (\d+) typ /.exec(candidate)?.[1]);
    if (this.remote && port === this.remote.port) this.candidateSeen = true;
    this.tryConnect();
  }

  createDataChannel(label: string, init: BackendChannelInit): BackendChannel {
    const channel = new MemoryChannel({ ...init, label }, this);
    this.channels.push(channel);
    return channel;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.network.connections.delete(this.ufrag);
    for (const channel of this.channels.splice(0)) channel.dropped();
    this.sendQueue.length = 0;
    const remote = this.remote;
    if (remote && this.state !== ConnectionState.New) {
      // The association shuts down: the remote's channels close, and so does its connection.
      this.network.scheduler.schedule(this.network.conditions.delayMs, () => remote.remoteGone());
    }
  }

  /** Runs `task` after `delayMs`, unless this connection has closed by then. */
  after(delayMs: number, task: () => void): void {
    this.network.scheduler.schedule(delayMs, () => {
      if (!this.closed) task();
    });
  }

  /** Runs `task` on the remote's channel `id` after the link's delay, if both still exist. */
  toRemote(id: number, task: (channel: MemoryChannel) => void): void {
    const remote = this.remote;
    if (!remote) return;
    this.after(this.network.conditions.delayMs, () => {
      const channel = remote.channelById(id);
      if (channel) task(channel);
    });
  }

  forget(channel: MemoryChannel): void {
    const index = this.channels.indexOf(channel);
    if (index >= 0) this.channels.splice(index, 1);
  }

  enqueue(datagram: Datagram): void {
    datagram.channel.queued += datagram.size;
    this.sendQueue.push(datagram);
    this.pump();
  }

  linkLost(): void {
    if (this.state === ConnectionState.Connected) this.setState(ConnectionState.Disconnected);
  }

  linkRestored(): void {
    if (this.state === ConnectionState.Disconnected) this.setState(ConnectionState.Connected);
    this.pump();
  }

  private remoteGone(): void {
    if (this.closed) return;
    for (const channel of [...this.channels]) channel.remoteClosed();
    this.setState(ConnectionState.Closed);
  }

  private channelById(id: number): MemoryChannel | undefined {
    return this.channels.find((channel) => channel.id === id && channel.state !== 'closed');
  }

  private describe(type: 'offer' | 'answer'): void {
    this.created = type;
    this.handlers.localDescription(type, this.sdp(type));
  }

  private sdp(type: 'offer' | 'answer'): string {
    return [
      'v=0',
      `o=- ${this.port} 0 IN IP4 127.0.0.1`,
      's=-',
      't=0 0',
      'a=group:BUNDLE 0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 0.0.0.0',
      'a=mid:0',
      `a=ice-ufrag:${this.ufrag}`,
      `a=ice-pwd:${this.ufrag}password`,
      `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => '00').join(':')}`,
      `a=setup:${type === 'offer' ? 'actpass' : 'active'}`,
      'a=sctp-port:5000',
      `a=max-message-size:${this.config.maxMessageSize}`,
      '',
    ].join('\r\n');
  }

  /** ICE and DTLS come up once both sides hold both descriptions and one side a candidate of the other. */
  private tryConnect(): void {
    const remote = this.remote;
    if (!remote || remote.remote !== this || this.state !== ConnectionState.New || remote.state !== ConnectionState.New) return;
    if (!this.localApplied || !remote.localApplied || !this.created || !remote.created) return;
    if (!this.candidateSeen && !remote.candidateSeen) return;
    const { delayMs } = this.network.conditions;
    for (const side of [this, remote]) {
      side.setState(ConnectionState.Connecting);
      side.after(2 * delayMs, () => side.connected());
    }
  }

  private connected(): void {
    if (this.network.conditions.blocked) return;
    this.setState(ConnectionState.Connected);
    const remote = this.remote!;
    for (const channel of this.channels) {
      if (channel.info.negotiated) {
        channel.opened();
      } else if (channel.id < 0) {
        this.announce(channel, remote);
      }
    }
  }

  /** An in-band channel: an id of this side's parity (the DTLS client's even), the remote told, then open. */
  private announce(channel: MemoryChannel, remote: MemoryConnection): void {
    let id = this.offerer ? 1 : 0;
    while (this.channels.some((other) => other.id === id) || remote.channels.some((other) => other.id === id)) id += 2;
    channel.id = id;
    const { delayMs } = this.network.conditions;
    this.after(delayMs, () => {
      if (remote.closed) return;
      const received = new MemoryChannel({ ...channel.info, id, negotiated: false }, remote);
      remote.channels.push(received);
      received.opened();
      remote.handlers.dataChannel(received);
      this.after(delayMs, () => channel.opened());
    });
  }

  private setState(state: ConnectionState): void {
    if (this.state === state || this.closed) return;
    this.state = state;
    this.handlers.connectionState(state);
  }

  /** Sends what waits, at the link's rate; while blocked, unreliable messages are lost and reliable ones wait. */
  private pump(): void {
    if (this.sending || this.closed) return;
    const { blocked, bytesPerMs } = this.network.conditions;
    if (blocked) {
      for (let index = this.sendQueue.length - 1; index >= 0; index--) {
        const datagram = this.sendQueue[index]!;
        if (datagram.channel.reliable) continue;
        this.sendQueue.splice(index, 1);
        datagram.channel.queued -= datagram.size;
      }
      return;
    }
    const head = this.sendQueue[0];
    if (!head) return;
    this.sending = true;
    const unlimited = !Number.isFinite(bytesPerMs);
    this.after(unlimited ? 0 : head.size / bytesPerMs, () => {
      this.sending = false;
      const leaving = unlimited ? this.sendQueue.splice(0) : this.sendQueue.splice(0, 1);
      for (const datagram of leaving) this.transmit(datagram);
      this.pump();
    });
  }

  private transmit({ channel, data, size }: Datagram): void {
    channel.queued -= size;
    const { delayMs, jitterMs, lossRate } = this.network.conditions;
    if (!channel.reliable && lossRate > 0 && this.network.random() < lossRate) return;
    const now = this.network.scheduler.now();
    let arrival = now + delayMs + (channel.info.ordered ? 0 : jitterMs * this.network.random());
    if (channel.info.ordered) arrival = Math.max(arrival, channel.lastArrival);
    channel.lastArrival = arrival;
    const id = channel.id;
    const remote = this.remote;
    this.after(arrival - now, () => remote?.channelById(id)?.arrived(data));
  }
}

/**
 * A backend whose connections reach each other inside this process: for unit tests of code built
 * on rtcmesh, and for rtcmesh's own rule tests. Connections of one backend negotiate as usual
 * (offer, answer, candidates), with descriptions that only this backend understands; pass a
 * {@link ManualScheduler} and its clock as the mesh's `clock`, and time moves only when the test
 * says. Not a network: no packet leaves the process.
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const defaults = MEMORY_BACKEND_DEFAULTS;
  const disconnectAfterMs = checkOption('MemoryBackendOptions', 'disconnectAfterMs', DISCONNECT_AFTER, options.disconnectAfterMs ?? defaults.disconnectAfterMs) as number;
  const network = new MemoryNetwork(options.scheduler ?? defaults.scheduler, options.random ?? defaults.random, disconnectAfterMs);
  if (options.conditions) network.setConditions(options.conditions);
  return {
    name: 'memory',
    createConnection: (config, handlers) => new MemoryConnection(network, config, handlers),
    setConditions: (conditions) => network.setConditions(conditions),
  };
}
