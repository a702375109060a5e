// The W3C backend: rtcmesh on the standard RTCPeerConnection and RTCDataChannel, the browser's or
// any constructor of that shape (node-datachannel's polyfill in the tests). Browser-safe: nothing
// here imports a Node module.
//
// Failures. The W3C calls are promise-based, so the engine's verdict on a step arrives after
// PeerConnection has returned to its caller, and cannot be thrown any more. Every negotiation step
// runs on one promise chain per connection, in call order, and no promise of it can reject:
// - a negotiation step the engine refuses (createOffer, createAnswer, setLocalDescription,
//   setRemoteDescription) leaves nothing to negotiate with: the connection reports Failed, stays
//   Failed, and the steps queued after it are skipped;
// - a remote candidate the engine refuses is dropped, as a bad packet is: the remote's other
//   candidates may still connect.
// Remote candidates wait on that chain only until the engine has been handed the remote
// description; after it, the engine's own operations chain (W3C) orders them behind it (see
// `addRemoteCandidate`).
// A remote description that passes rtcmesh's own checks is therefore accepted by
// `PeerConnection.setRemoteDescription()` and may fail the connection later; node-datachannel
// refuses it at once, with an RtcError.
//
// DTLS roles. This backend leaves the offer's `a=setup:actpass` alone: the answerer stays the DTLS
// client. Browsers refuse a local description other than the one they created, so making the
// offerer the client would mean reporting a munged offer while applying the original; over
// node-datachannel's polyfill that connects, but measured here (3-peer meshes on loopback) 1-3 %
// of links then failed their handshake ("DTLS alert: unknown CA": libdatachannel lets ICE connect
// while it applies the answer, before it holds the answer's fingerprint, and the offerer, now the
// client, checks the answerer's certificate at once). `holdOfferCandidates` closes that window for
// both roles; with it, 0 of 600 links failed either way, and a mesh waited for libdatachannel's
// 1 s hello retransmit one time in seven without munging, against two in five with it. Chromium
// keeps a hello that arrives before its DTLS transport exists.
import { RtcError } from '../errors.js';
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
import type { IceServerUrl } from '../ice-servers.js';
import { ConnectionState } from '../states.js';
import { CONNECTION_STATES, GATHERING_STATES, SIGNALING_STATES } from './state-names.js';

/** A constructor with the W3C `RTCPeerConnection` shape: the browser's, or a polyfill's. */
export type RTCPeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

/** Options of {@link createW3CBackend}. */
export interface W3CBackendOptions {
  /**
   * Adds engine-specific fields to the `RTCConfiguration` of each connection. The W3C has no
   * field for `bindAddress`, `portRange` or `maxMessageSize`, so this backend drops them; an
   * engine that knows them (node-datachannel's polyfill reads `bindAddress`, `portRangeBegin`,
   * `portRangeEnd` and `maxMessageSize`) can be given them here. Default: none added.
   */
  configure?: (configuration: RTCConfiguration, config: BackendConfig) => RTCConfiguration;
  /**
   * When this side offers, holds its candidates until the answer is applied, so that the remote
   * cannot reach it while the answer is being applied. For libdatachannel 0.24 (node-datachannel's
   * polyfill), which can let ICE connect and check the remote's DTLS certificate in that moment,
   * before it holds the answer's fingerprint: the handshake then fails ("DTLS alert: unknown CA";
   * libdatachannel pull request 1612). Costs one signaling leg of setup time. Default false.
   */
  holdOfferCandidates?: boolean;
  /**
   * The reliable bytes rtcmesh lets wait in the engine per connection (`Backend.reliableQueueBytes`).
   * Default 1 MiB: a browser's SCTP interleaves its streams, so keepalives do not wait behind them,
   * and Chromium's send() costs several times more refilling a shallow queue. Over
   * node-datachannel's polyfill, whose engine sends from one queue, give 65536.
   */
  reliableQueueBytes?: number;
}

/** What a W3C engine may hold of the reliable channels unless told otherwise. */
export const W3C_RELIABLE_QUEUE_BYTES = 1024 * 1024;

/** What W3C engines announce when they tell nothing else (RFC 8841, section 6). */
const DEFAULT_MAX_MESSAGE_SIZE = 65536;


function iceServerUrl(url: IceServerUrl): string {
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const transport = url.scheme === 'turn' && url.transport === 'tcp' ? '?transport=tcp' : '';
  return `${url.scheme}:${host}:${url.port}${transport}`;
}

function translateConfig(config: BackendConfig): RTCConfiguration {
  return {
    iceServers: config.iceServers.map((url) => {
      const server: RTCIceServer = { urls: iceServerUrl(url) };
      if (url.username !== undefined) server.username = url.username;
      if (url.credential !== undefined) server.credential = url.credential;
      return server;
    }),
    iceTransportPolicy: config.iceTransportPolicy,
  };
}

// A plain Uint8Array, as from every backend; anything that is neither bytes nor text is dropped.
function toMessage(data: unknown): Uint8Array | string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** What a channel that the remote opened in-band is, as its W3C object tells. */
function receivedChannelInfo(native: RTCDataChannel): BackendChannelInfo {
  const info: BackendChannelInfo = {
    label: native.label,
    ordered: native.ordered,
    negotiated: native.negotiated,
    protocol: native.protocol,
  };
  if (native.id !== null) info.id = native.id;
  if (native.maxPacketLifeTime !== null) info.maxPacketLifeTime = native.maxPacketLifeTime;
  if (native.maxRetransmits !== null) info.maxRetransmits = native.maxRetransmits;
  return info;
}

type ChannelEvent =
  | { kind: 'open' }
  | { kind: 'closed' }
  | { kind: 'message'; data: Uint8Array | string };

/**
 * The most bytes a received channel holds for rtcmesh before rtcmesh has taken it (at the next
 * `poll()`); past it, messages are dropped, as `DataChannel` drops past its receive limit.
 */
const MAX_EARLY_BYTES = 4 * 1024 * 1024;

/**
 * One channel. A channel created here reaches the engine only when negotiation starts (see
 * `W3CConnection.createDataChannel`); until then it exists in rtcmesh alone. A channel the remote
 * opened reports to rtcmesh only from the next `poll()`: what it says before is held till then.
 */
class W3CChannel implements BackendChannel {
  private handlers: BackendChannelHandlers | undefined;
  private readonly early: ChannelEvent[] = [];
  private earlyBytes = 0;
  private closed = false;

  constructor(
    readonly info: BackendChannelInfo,
    private readonly connection: W3CConnection,
    private native: RTCDataChannel | undefined,
  ) {
    if (native) this.attach(native);
  }

  /** Whether the engine has this channel yet. */
  get inEngine(): boolean {
    return this.native !== undefined;
  }

  /** Creates the channel in the engine, unless it was closed before negotiation started. */
  open(pc: RTCPeerConnection): void {
    if (this.native || this.closed) return;
    const init: RTCDataChannelInit = { ordered: this.info.ordered, protocol: this.info.protocol };
    if (this.info.negotiated) {
      init.negotiated = true;
      init.id = this.info.id;
    }
    if (this.info.maxPacketLifeTime !== undefined) init.maxPacketLifeTime = this.info.maxPacketLifeTime;
    if (this.info.maxRetransmits !== undefined) init.maxRetransmits = this.info.maxRetransmits;
    this.attach(pc.createDataChannel(this.info.label, init));
  }

  setHandlers(handlers: BackendChannelHandlers): void {
    this.handlers = handlers;
    for (const event of this.early.splice(0)) this.deliver(event);
    this.earlyBytes = 0;
  }

  poll(): void {
    // Every event is reported through the handlers.
  }

  currentId(): number {
    // A negotiated channel has the id rtcmesh gave it. Chromium answers `id` by a blocking call
    // to its network thread, busy while the connection opens: read at each channel's open, it
    // cost 70 µs a channel and spread the opens of a connection's four channels, both sides
    // together, over 0.6 ms instead of 0.1 ms.
    if (this.info.negotiated && this.info.id !== undefined) return this.info.id;
    return this.native?.id ?? this.info.id ?? -1;
  }

  sendBinary(data: Uint8Array): boolean {
    if (!this.native) return false;
    try {
      // The W3C send takes a view as it is, and throws unless the channel is open.
      this.native.send(data as Uint8Array<ArrayBuffer>);
      return true;
    } catch {
      return false;
    }
  }

  sendText(text: string): boolean {
    if (!this.native) return false;
    try {
      this.native.send(text);
      return true;
    } catch {
      return false;
    }
  }

  bufferedAmount(): number {
    try {
      return this.native?.bufferedAmount ?? 0;
    } catch {
      return 0;
    }
  }

  maxMessageSize(): number {
    return this.connection.maxMessageSize();
  }

  close(): void {
    this.closed = true;
    this.early.length = 0;
    this.connection.forget(this);
    try {
      this.native?.close();
    } catch {
      // Closing a channel whose connection is gone: nothing is left to close.
    }
  }

  private attach(native: RTCDataChannel): void {
    this.native = native;
    native.binaryType = 'arraybuffer';
    // A channel the remote opened may be open already, and tell no more.
    if (native.readyState === 'open') this.report({ kind: 'open' });
    native.onopen = () => this.report({ kind: 'open' });
    native.onclose = () => this.report({ kind: 'closed' });
    native.onmessage = (event: MessageEvent) => {
      const data = toMessage(event.data);
      if (data !== undefined) this.report({ kind: 'message', data });
    };
  }

  private report(event: ChannelEvent): void {
    if (this.closed) return;
    if (this.handlers) {
      this.deliver(event);
      return;
    }
    if (event.kind === 'message') {
      const size = typeof event.data === 'string' ? event.data.length * 2 : event.data.byteLength;
      if (this.earlyBytes + size > MAX_EARLY_BYTES) return;
      this.earlyBytes += size;
    }
    this.early.push(event);
  }

  private deliver(event: ChannelEvent): void {
    const handlers = this.handlers!;
    switch (event.kind) {
      case 'open':
        return handlers.open();
      case 'closed':
        return handlers.closed();
      case 'message':
        return handlers.message(event.data);
    }
  }
}

class W3CConnection implements BackendConnection {
  private readonly pc: RTCPeerConnection;
  // Every channel not closed by rtcmesh: strong references, whatever the engine keeps.
  private readonly channels = new Set<W3CChannel>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private failed = false;
  // Engines may report a candidate before rtcmesh has reported the description it belongs to;
  // with `holdOfferCandidates`, an offerer's wait for the answer too.
  private candidatesReleased = false;
  private readonly heldCandidates: Array<[mid: string, candidate: string]> = [];
  private readonly holdOfferCandidates: boolean;
  // Whether the engine has been handed the remote description (not necessarily applied it yet).
  private remoteDescribed = false;
  private readonly heldRemoteCandidates: Array<[mid: string, candidate: string]> = [];

  constructor(
    ctor: RTCPeerConnectionConstructor,
    config: BackendConfig,
    private readonly handlers: BackendConnectionHandlers,
    options: W3CBackendOptions,
  ) {
    this.holdOfferCandidates = options.holdOfferCandidates ?? false;
    const configuration = translateConfig(config);
    try {
      this.pc = new ctor(options.configure ? options.configure(configuration, config) : configuration);
    } catch (error) {
      throw new RtcError('ERR_INVALID_PARAMETER', `the engine refused the configuration: ${error instanceof Error ? error.message : String(error)}`);
    }
    const pc = this.pc;
    pc.onicecandidate = (event) => {
      const candidate = event.candidate;
      // null, or an empty candidate, marks the end of candidates: the gathering state tells that.
      if (this.closed || !candidate || !candidate.candidate) return;
      const mid = candidate.sdpMid ?? String(candidate.sdpMLineIndex ?? 0);
      if (this.candidatesReleased) handlers.localCandidate(mid, candidate.candidate);
      else this.heldCandidates.push([mid, candidate.candidate]);
    };
    pc.onconnectionstatechange = () => {
      const mapped = CONNECTION_STATES[pc.connectionState];
      if (mapped !== undefined) this.reportConnectionState(mapped);
    };
    pc.onicegatheringstatechange = () => {
      const mapped = GATHERING_STATES[pc.iceGatheringState];
      if (mapped !== undefined && !this.closed) handlers.gatheringState(mapped);
    };
    pc.onsignalingstatechange = () => {
      const mapped = SIGNALING_STATES[pc.signalingState];
      if (mapped !== undefined && !this.closed) handlers.signalingState(mapped);
    };
    pc.ondatachannel = (event) => {
      if (this.closed) return;
      const channel = new W3CChannel(receivedChannelInfo(event.channel), this, event.channel);
      this.channels.add(channel);
      handlers.dataChannel(channel);
    };
  }

  createOffer(): void {
    this.step(async () => {
      this.openChannels();
      await this.describe('offer', await this.pc.createOffer());
    });
  }

  setLocalDescription(): void {
    // Already applied when created (see `describe`), as the node-datachannel backend does.
  }

  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void {
    this.step(async () => {
      const applied = this.pc.setRemoteDescription({ type, sdp });
      this.remoteDescribed = true;
      for (const [mid, candidate] of this.heldRemoteCandidates.splice(0)) this.addToEngine(mid, candidate);
      await applied;
      if (type !== 'offer') {
        this.releaseCandidates();
        return;
      }
      this.openChannels();
      await this.describe('answer', await this.pc.createAnswer());
    });
  }

  /**
   * Hands the candidate to the engine as soon as the engine has the remote description, rather
   * than behind the steps queued on this connection's chain: one that arrives while the answer is
   * being made then goes into the engine's own chain ahead of the answer's setLocalDescription,
   * as when a page hands it over itself, and ICE has it the moment the answer is applied. In
   * Chromium the offerer's first candidate often arrives then; measured over 600 setups of two
   * connections in one page, in the slowest fifth the answerer's connectivity checks began 2.3 ms
   * after its answer was applied when the candidate waited on the chain, 1.0 ms with this.
   */
  addRemoteCandidate(mid: string, candidate: string): void {
    if (this.closed || this.failed) return;
    // Browsers refuse the SDP attribute form that libdatachannel reports ("a=candidate:...").
    const text = candidate.replace(/^a=/, '');
    if (this.remoteDescribed) this.addToEngine(mid, text);
    else this.heldRemoteCandidates.push([mid, text]);
  }

  createDataChannel(label: string, init: BackendChannelInit): BackendChannel {
    // Created in the engine only when negotiation starts: node-datachannel's polyfill cannot turn
    // auto-negotiation off, so a channel made before the remote offer starts an offer of its own
    // (glare). After setRemoteDescription (answerer) or before createOffer (offerer) is what the
    // W3C allows either way, and rtcmesh refuses new channels once negotiation has started.
    const channel = new W3CChannel({ ...init, label }, this, undefined);
    this.channels.add(channel);
    return channel;
  }

  close(): void {
    this.closed = true;
    for (const channel of [...this.channels]) channel.close();
    this.channels.clear();
    this.heldCandidates.length = 0;
    this.heldRemoteCandidates.length = 0;
    try {
      this.pc.close();
    } catch {
      // Already closed by the engine.
    }
  }

  /** The largest message the remote accepts, once the SCTP transport knows it. */
  maxMessageSize(): number {
    try {
      const size = this.pc.sctp?.maxMessageSize;
      // Infinity (RFC 8841: 0 announced) is not a packet size.
      return typeof size === 'number' && size > 0 && Number.isFinite(size) ? size : DEFAULT_MAX_MESSAGE_SIZE;
    } catch {
      return DEFAULT_MAX_MESSAGE_SIZE;
    }
  }

  /** @internal A channel closed by rtcmesh: the connection lets it go. */
  forget(channel: W3CChannel): void {
    this.channels.delete(channel);
  }

  private openChannels(): void {
    for (const channel of this.channels) if (!channel.inEngine) channel.open(this.pc);
  }

  /**
   * Reports a description just created and applies it in the same step, as libdatachannel does:
   * ICE gathering starts at once rather than a `poll()` later, when the caller passes it back to
   * `setLocalDescription` (which only checks it). Reported first, so that it is on its way to the
   * remote while the engine applies it; the steps queued after this one wait for that.
   */
  private async describe(type: 'offer' | 'answer', description: RTCSessionDescriptionInit): Promise<void> {
    if (this.closed) return;
    const sdp = description.sdp ?? '';
    this.handlers.localDescription(type, sdp);
    if (type === 'answer' || !this.holdOfferCandidates) this.releaseCandidates();
    await this.pc.setLocalDescription({ type, sdp });
  }

  /** A candidate the engine refuses, now or once its chain reaches it, is dropped as a bad packet is. */
  private addToEngine(mid: string, candidate: string): void {
    try {
      this.pc.addIceCandidate({ candidate, sdpMid: mid }).catch(() => undefined);
    } catch {
      // Refused at once: dropped too.
    }
  }

  private releaseCandidates(): void {
    if (this.closed || this.candidatesReleased) return;
    this.candidatesReleased = true;
    for (const [mid, candidate] of this.heldCandidates.splice(0)) this.handlers.localCandidate(mid, candidate);
  }

  private reportConnectionState(state: ConnectionState): void {
    // Failed by a refused step is final: the engine itself may still think it is connecting.
    if (this.closed || this.failed) return;
    this.handlers.connectionState(state);
  }

  /**
   * Runs the negotiation step `operation` after every step before it; what it throws fails the
   * connection and is never rethrown.
   */
  private step(operation: () => Promise<unknown>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed || this.failed) return;
      try {
        await operation();
      } catch {
        if (this.closed) return;
        this.reportConnectionState(ConnectionState.Failed);
        this.failed = true;
      }
    });
  }
}

/**
 * A backend on the W3C `RTCPeerConnection` API: the default of rtcmesh's browser entry, and
 * usable with any constructor of that shape. Godot's JavaScript build does the same in
 * `WebRTCPeerConnectionJS`. Over node-datachannel's polyfill, pass its extra configuration
 * through `options.configure` and call node-datachannel's `cleanup()` at shutdown.
 * @param RTCPeerConnectionCtor the engine; default `globalThis.RTCPeerConnection`.
 * @throws RtcError ERR_UNAVAILABLE when there is no such constructor (Node.js has none).
 */
export function createW3CBackend(
  RTCPeerConnectionCtor: RTCPeerConnectionConstructor | undefined = globalThis.RTCPeerConnection,
  options: W3CBackendOptions = {},
): Backend {
  if (typeof RTCPeerConnectionCtor !== 'function') {
    throw new RtcError('ERR_UNAVAILABLE', 'no RTCPeerConnection here: pass one to createW3CBackend(), or use the node-datachannel backend in Node.js.');
  }
  const ctor = RTCPeerConnectionCtor;
  return {
    name: 'w3c',
    reliableQueueBytes: options.reliableQueueBytes ?? W3C_RELIABLE_QUEUE_BYTES,
    createConnection: (config, handlers) => new W3CConnection(ctor, config, handlers, options),
  };
}
