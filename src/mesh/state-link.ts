import {
  ChannelState,
  ConnectionState,
  type DataChannel,
  MAX_CHANNEL_ID,
  type PeerConnection,
  RtcError,
} from '../transport/index.js';
import { type ChannelSpec, SYSTEM_CHANNEL_OPTIONS, channelOptions } from './channel-layout.js';

/**
 * SCTP id, on the main connection, of the reliable channel that negotiates the state connection:
 * the last id, past every extra channel of the layout.
 */
export const STATE_SIGNAL_CHANNEL_ID = MAX_CHANNEL_ID;
/** The largest negotiation message accepted: a description with many candidates fits in far less. */
const MAX_SIGNAL_BYTES = 64 * 1024;
/** Negotiation messages accepted in all: an offer or answer, and the candidates of a few interfaces. */
const MAX_SIGNAL_MESSAGES = 128;

/** A negotiation message, as JSON on the signal channel (docs/wire-format.md). */
type SignalMessage =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; media: string; index: number; name: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The message, or null when it is not one of the forms above. */
function parseSignal(bytes: Uint8Array): SignalMessage | null {
  if (bytes.byteLength > MAX_SIGNAL_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const message = value as Record<string, unknown>;
  if ((message.type === 'offer' || message.type === 'answer') && typeof message.sdp === 'string') {
    return { type: message.type, sdp: message.sdp };
  }
  if (
    message.type === 'candidate' &&
    typeof message.media === 'string' &&
    Number.isInteger(message.index) &&
    typeof message.name === 'string'
  ) {
    return { type: 'candidate', media: message.media, index: message.index as number, name: message.name };
  }
  return null;
}

/**
 * Whether a connection in this state may have its channels open: not lost. A channel opens only
 * once the connection is up, and Chromium may tell the channels' open before the connection's own
 * state (milliseconds later at times): the channels' state is what says a connection is ready.
 */
export function mayCarryChannels(state: ConnectionState): boolean {
  return state === ConnectionState.New || state === ConnectionState.Connecting || state === ConnectionState.Connected;
}

/**
 * rtcmesh's state connection to one peer: a second PeerConnection, negotiated in-band over a
 * reliable channel of the main one, that carries the keepalive and the unreliable channels. It
 * has its own SCTP association, so its send buffer and congestion window are not shared with a
 * reliable backlog on the main connection. Until it is up, and for good if it fails, everything
 * travels on the main connection.
 */
export class StateLink {
  readonly connection: PeerConnection;
  readonly system: DataChannel;
  /** The unreliable channels, by SCTP id (the same ids as on the main connection). */
  readonly channels = new Map<number, DataChannel>();
  /** Whether negotiation failed or the connection broke: the link is closed and stays so. */
  failed = false;
  /** Negotiation messages refused: malformed, misdirected, past the count, or refused by the engine. */
  rejected = 0;
  private readonly signal: DataChannel;
  private offerSent = false;
  private received = 0;

  /**
   * @param offerer whether this side offers (the two sides must disagree: the mesh picks the higher id).
   * @param specs the unreliable channels of the layout.
   */
  constructor(
    main: PeerConnection,
    private readonly offerer: boolean,
    specs: readonly ChannelSpec[],
  ) {
    this.signal = main.createDataChannel('state-signal', { negotiated: true, id: STATE_SIGNAL_CHANNEL_ID, ordered: true });
    this.connection = main.createSibling();
    this.system = this.connection.createDataChannel('system', SYSTEM_CHANNEL_OPTIONS);
    for (const spec of specs) this.channels.set(spec.sctpId, this.connection.createDataChannel(spec.label, channelOptions(spec.sctpId, spec.mode)));
    this.connection.on('sessionDescriptionCreated', (type, sdp) => {
      this.connection.setLocalDescription(type, sdp);
      this.send({ type, sdp });
    });
    this.connection.on('iceCandidateCreated', (media, index, name) => this.send({ type: 'candidate', media, index, name }));
  }

  /** Whether every channel on the connection is open, and the connection not lost: traffic may move to it. */
  isUp(): boolean {
    if (this.failed || !mayCarryChannels(this.connection.getConnectionState())) return false;
    if (this.system.getReadyState() !== ChannelState.Open) return false;
    for (const channel of this.channels.values()) if (channel.getReadyState() !== ChannelState.Open) return false;
    return true;
  }

  /** Polls the connection and takes negotiation messages; the offerer offers once the signal channel opens. */
  poll(): void {
    if (this.failed) return;
    try {
      if (this.offerer && !this.offerSent && this.signal.getReadyState() === ChannelState.Open) {
        this.offerSent = true;
        this.connection.createOffer();
      }
      this.connection.poll();
      for (let bytes = this.signal.getPacket(); bytes && !this.failed; bytes = this.signal.getPacket()) this.take(bytes);
    } catch (error) {
      // The remote's messages are untrusted: one the engine refuses ends the link, not the peer.
      if (!(error instanceof RtcError)) throw error;
      this.rejected++;
      this.close();
      return;
    }
    const state = this.connection.getConnectionState();
    const broken = state === ConnectionState.Failed || state === ConnectionState.Closed || this.signal.getReadyState() === ChannelState.Closed;
    if (broken || this.system.getReadyState() === ChannelState.Closed) this.close();
    else for (const channel of this.channels.values()) if (channel.getReadyState() === ChannelState.Closed) this.close();
  }

  /** Closes the state connection for good (the signal channel closes with the main one). */
  close(): void {
    this.failed = true;
    this.connection.close();
  }

  private take(bytes: Uint8Array): void {
    const message = parseSignal(bytes);
    // An offer to the offerer, or an answer to the answerer, is as malformed as bad JSON.
    const misdirected = (message?.type === 'offer' && this.offerer) || (message?.type === 'answer' && !this.offerer);
    if (message === null || misdirected || ++this.received > MAX_SIGNAL_MESSAGES) {
      this.rejected++;
      this.close();
      return;
    }
    if (message.type === 'candidate') this.connection.addIceCandidate(message.media, message.index, message.name);
    else this.connection.setRemoteDescription(message.type, message.sdp);
  }

  private send(message: SignalMessage): void {
    if (this.signal.getReadyState() === ChannelState.Open) this.signal.putPacket(encoder.encode(JSON.stringify(message)));
  }
}
