import nodeDataChannel from 'node-datachannel';
import type { DataChannelInitConfig, IceServer, RtcConfig } from 'node-datachannel';
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
import { SignalingState } from '../states.js';
import { CONNECTION_STATES, GATHERING_STATES, SIGNALING_STATES } from './state-names.js';

type NativeConnection = nodeDataChannel.PeerConnection;
type NativeChannel = nodeDataChannel.DataChannel;

/**
 * How long an offerer holds its candidates after the answer, when its own checks have not
 * connected it by then: the answerer needs them only when the offerer's checks cannot reach it
 * (a NAT that opens to its own checks first), and pays this much more to connect in that case.
 */
export const OFFERER_CANDIDATE_HOLD_MS = 150;

/** Whether a candidate line is of the machine's own address (`typ host`), not one a server handed out. */
function isHostCandidate(candidate: string): boolean {
  return / typ host(?: |$)/.test(candidate);
}

const RELAY_TYPES = { udp: 'TurnUdp', tcp: 'TurnTcp' } as const;

/** Whether ICE has found a working pair. */
function isIceUp(state: string): boolean {
  return state === 'connected' || state === 'completed';
}

/**
 * Every native object rtcmesh has not closed yet. node-datachannel closes a channel whose JS
 * object is garbage-collected (its messages lost, the remote told, and a later `cleanup()`
 * crashing), so nothing may become unreachable before rtcmesh closes it.
 */
const liveNativeObjects = new Set<NativeConnection | NativeChannel>();

// The object form, never a URL string: libdatachannel misparses a bracketed IPv6 host in one.
function translateIceServer(url: IceServerUrl): IceServer {
  if (url.scheme === 'stun' || url.scheme === 'stuns') return { hostname: url.host, port: url.port };
  return {
    hostname: url.host,
    port: url.port,
    username: url.username ?? '',
    password: url.credential ?? '',
    relayType: url.scheme === 'turns' ? 'TurnTls' : RELAY_TYPES[url.transport],
  };
}

// A plain Uint8Array view, not a Buffer: packets look the same from every backend.
function toBytes(message: string | Buffer | ArrayBuffer): Uint8Array | string {
  if (typeof message === 'string') return message;
  if (message instanceof ArrayBuffer) return new Uint8Array(message);
  // A Buffer's length is its byteLength, without the generic property load Node's V8 makes of that.
  return new Uint8Array(message.buffer, message.byteOffset, message.length);
}

class NodeDataChannelChannel implements BackendChannel {
  readonly info: BackendChannelInfo;
  /** The handlers, while the channel has not been seen open or closed: poll() asks the engine. */
  private opening: BackendChannelHandlers | undefined;

  constructor(
    private readonly native: NativeChannel,
    init: BackendChannelInit,
  ) {
    liveNativeObjects.add(native);
    this.info = { ...init, label: native.getLabel(), protocol: native.getProtocol() };
  }

  // No onOpen and no onError: each callback registered is an engine-to-JS handle that the event
  // loop scans on every wake-up, for the life of the channel (a server's largest cost after its
  // sends). poll() asks whether the channel has opened until it has; the closed callback that
  // follows an error is what counts of it.
  setHandlers(handlers: BackendChannelHandlers): void {
    this.opening = handlers;
    // Registered always: after close() the process exits only if onClosed was registered.
    this.native.onClosed(() => {
      this.opening = undefined;
      handlers.closed();
    });
    this.native.onMessage((message) => handlers.message(toBytes(message)));
  }

  poll(): void {
    const handlers = this.opening;
    if (handlers === undefined || !this.native.isOpen()) return;
    this.opening = undefined;
    handlers.open();
  }

  currentId(): number {
    return this.native.getId();
  }

  sendBinary(data: Uint8Array): boolean {
    try {
      // false only means "queued, not sent at once": the message is accepted all the same.
      this.native.sendMessageBinary(data);
      return true;
    } catch {
      return false;
    }
  }

  sendText(text: string): boolean {
    try {
      this.native.sendMessage(text);
      return true;
    } catch {
      return false;
    }
  }

  bufferedAmount(): number {
    try {
      return this.native.bufferedAmount();
    } catch {
      return 0;
    }
  }

  maxMessageSize(): number {
    return this.native.maxMessageSize();
  }

  close(): void {
    this.opening = undefined;
    try {
      this.native.close();
    } finally {
      liveNativeObjects.delete(this.native);
    }
  }
}

class NodeDataChannelConnection implements BackendConnection {
  private readonly native: NativeConnection;
  private readonly channels = new Set<NodeDataChannelChannel>();
  /**
   * Local candidates wait until they are safe to give away. node-datachannel can report one before
   * the local description. And an offerer's candidates wait for the answer: libdatachannel starts
   * ICE before it stores a remote description, so an answerer that could reach the offerer first
   * would bring the connection up before the offerer knows the answer's DTLS fingerprint, and the
   * handshake fails (libdatachannel PR 1612; measured here, a third of four-process meshes).
   * After the answer its host candidates still wait until its own checks have connected it (or
   * {@link OFFERER_CANDIDATE_HOLD_MS} has passed; server-reflexive and relay ones go at once): an
   * answerer holding them connects by checks of its own, and its DTLS hello (it is the DTLS
   * client) can then reach the offerer while the offerer's DTLS transport is starting, where
   * libdatachannel 0.24 leaves it unread until the hello is sent again, 1 s later. Without them the answerer connects only by answering the
   * offerer's checks, after the offerer. Measured here on loopback under load: 23 setups of 600
   * took over 900 ms before, 1 of 600 after.
   */
  private candidatesReleased = false;
  private answerApplied = false;
  private releaseTimer: NodeJS.Timeout | undefined;
  private readonly heldCandidates: Array<[mid: string, candidate: string]> = [];
  /** Whether poll() asks the engine if ICE is up: an offerer holding its host candidates after the answer. */
  private watchingIce = false;
  private signalingState = SignalingState.Stable;
  private readonly handlers: BackendConnectionHandlers;

  constructor(config: BackendConfig, handlers: BackendConnectionHandlers) {
    this.handlers = handlers;
    const rtcConfig: RtcConfig = {
      iceServers: config.iceServers.map(translateIceServer),
      iceTransportPolicy: config.iceTransportPolicy,
      maxMessageSize: config.maxMessageSize,
      // With auto-negotiation, creating a channel before the remote offer starts a second offer (glare).
      disableAutoNegotiation: true,
    };
    if (config.bindAddress !== undefined) rtcConfig.bindAddress = config.bindAddress;
    if (config.portRange) {
      rtcConfig.portRangeBegin = config.portRange.begin;
      rtcConfig.portRangeEnd = config.portRange.end;
    }
    this.native = new nodeDataChannel.PeerConnection('rtcmesh', rtcConfig);
    liveNativeObjects.add(this.native);

    this.native.onLocalDescription((sdp, type) => {
      if (type !== 'offer' && type !== 'answer') return;
      handlers.localDescription(type, sdp);
      if (type === 'answer') this.releaseCandidates();
    });
    this.native.onLocalCandidate((candidate, mid) => {
      if (this.candidatesReleased || (this.answerApplied && !isHostCandidate(candidate))) handlers.localCandidate(mid, candidate);
      else this.heldCandidates.push([mid, candidate]);
    });
    // Registered always: after close() the process exits only if onStateChange was registered.
    this.native.onStateChange((state) => {
      const mapped = CONNECTION_STATES[state];
      if (mapped !== undefined) handlers.connectionState(mapped);
    });
    // Watched, unlike the signaling state (read after each call that changes it) and the ICE state
    // (read by poll() while it matters): each callback is an engine-to-JS handle that the event loop
    // scans on every wake-up, for the life of the connection. Gathering ends on the engine's
    // threads, and its callback comes after the last candidate's, which a read could overtake.
    this.native.onGatheringStateChange((state) => {
      const mapped = GATHERING_STATES[state];
      if (mapped !== undefined) handlers.gatheringState(mapped);
    });
    this.native.onDataChannel((native) => {
      // The engine does not tell a received channel's reliability; W3C defaults stand in.
      const channel = new NodeDataChannelChannel(native, { ordered: true, negotiated: false, protocol: '' });
      this.channels.add(channel);
      handlers.dataChannel(channel);
    });
  }

  createOffer(): void {
    // Without auto-negotiation this both creates and applies the offer, as Godot's webrtc-native does.
    this.native.setLocalDescription('offer');
    this.reportSignalingState();
  }

  setLocalDescription(): void {
    // Already applied when created: libdatachannel cannot create a description without setting it.
  }

  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void {
    this.native.setRemoteDescription(sdp, type);
    this.reportSignalingState();
    if (type === 'answer') {
      this.answerApplied = true;
      this.releaseServerCandidates();
      this.watchingIce = true;
      this.poll();
      if (!this.candidatesReleased) this.releaseTimer = setTimeout(() => this.releaseCandidates(), OFFERER_CANDIDATE_HOLD_MS);
    }
    // Asking for an answer in any other state aborts the process (a C++ logic_error).
    if (type === 'offer' && this.native.signalingState() === 'have-remote-offer') {
      this.native.setLocalDescription('answer');
      this.reportSignalingState();
    }
  }

  /**
   * Releases the held candidates once the offerer's checks have connected it. Asked here rather
   * than told by a callback: they are of use only while ICE is not up, so a release a poll late
   * costs nothing.
   */
  poll(): void {
    if (this.watchingIce && isIceUp(this.native.iceState())) this.releaseCandidates();
  }

  /**
   * Reports the signaling state if it changed. libdatachannel changes it only inside the calls
   * made here (auto-negotiation is off), before they return: read after each one, nothing is missed.
   */
  private reportSignalingState(): void {
    const mapped = SIGNALING_STATES[this.native.signalingState()];
    if (mapped === undefined || mapped === this.signalingState) return;
    this.signalingState = mapped;
    this.handlers.signalingState(mapped);
  }

  /**
   * Gives away the held candidates a STUN or TURN server handed out: the answerer needs the
   * offerer's relay address at once to let it through its own relay (a TURN permission), and no
   * such path comes up before the host-to-host one the offerer's checks try first.
   */
  private releaseServerCandidates(): void {
    const held = this.heldCandidates.splice(0);
    for (const entry of held) {
      if (isHostCandidate(entry[1])) this.heldCandidates.push(entry);
      else this.handlers.localCandidate(entry[0], entry[1]);
    }
  }

  private releaseCandidates(): void {
    clearTimeout(this.releaseTimer);
    this.watchingIce = false;
    if (this.candidatesReleased) return;
    this.candidatesReleased = true;
    for (const [mid, candidate] of this.heldCandidates.splice(0)) this.handlers.localCandidate(mid, candidate);
  }

  addRemoteCandidate(mid: string, candidate: string): void {
    this.native.addRemoteCandidate(candidate, mid);
  }

  createDataChannel(label: string, init: BackendChannelInit): BackendChannel {
    const options: DataChannelInitConfig = { protocol: init.protocol, unordered: !init.ordered };
    if (init.negotiated) {
      options.negotiated = true;
      options.id = init.id;
    }
    if (init.maxPacketLifeTime !== undefined) options.maxPacketLifeTime = init.maxPacketLifeTime;
    if (init.maxRetransmits !== undefined) options.maxRetransmits = init.maxRetransmits;
    const channel = new NodeDataChannelChannel(this.native.createDataChannel(label, options), init);
    this.channels.add(channel);
    return channel;
  }

  close(): void {
    clearTimeout(this.releaseTimer);
    this.watchingIce = false;
    // A closed connection gives nothing away any more.
    this.candidatesReleased = true;
    this.heldCandidates.length = 0;
    for (const channel of this.channels) channel.close();
    this.channels.clear();
    try {
      this.native.close();
    } finally {
      liveNativeObjects.delete(this.native);
    }
  }
}

/** The default backend in Node.js: libdatachannel through node-datachannel. */
export const nodeDataChannelBackend: Backend = {
  name: 'node-datachannel',
  createConnection: (config, handlers) => new NodeDataChannelConnection(config, handlers),
  cleanup: () => nodeDataChannel.cleanup(),
};
