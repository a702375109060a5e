import type { IceServerUrl } from './ice-servers.js';
import type { ConnectionState, GatheringState, SignalingState } from './states.js';

/** What a backend needs to open one connection; already validated by `PeerConnection`. */
export interface BackendConfig {
  iceServers: IceServerUrl[];
  iceTransportPolicy: 'all' | 'relay';
  /** Local UDP ports ICE may use, inclusive; absent means any. */
  portRange?: { begin: number; end: number };
  /** Local address ICE gathers on; absent means every interface. */
  bindAddress?: string;
  /** The largest message this side accepts, announced in SDP. */
  maxMessageSize: number;
}

/** How a channel is created; the W3C `RTCDataChannelInit` fields, checked as Godot checks them. */
export interface BackendChannelInit {
  ordered: boolean;
  negotiated: boolean;
  /** SCTP stream id; only with `negotiated`. */
  id?: number;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol: string;
}

/** What a channel is, read once: a destroyed native channel cannot be asked again. */
export interface BackendChannelInfo extends BackendChannelInit {
  label: string;
}

/**
 * Callbacks a backend calls as its engine reports. They may run at any moment of the event loop;
 * `PeerConnection` only queues them, for delivery inside `poll()`.
 */
export interface BackendConnectionHandlers {
  localDescription(type: 'offer' | 'answer', sdp: string): void;
  localCandidate(mid: string, candidate: string): void;
  connectionState(state: ConnectionState): void;
  gatheringState(state: GatheringState): void;
  signalingState(state: SignalingState): void;
  dataChannel(channel: BackendChannel): void;
}

/**
 * Callbacks of one channel, queued like the connection's. An engine's error event has none: the
 * engine closes the channel after it, and `closed` carries that.
 */
export interface BackendChannelHandlers {
  open(): void;
  closed(): void;
  /** A message arrived; binary messages are passed as bytes, text as a string. */
  message(data: Uint8Array | string): void;
}

/**
 * One connection to one remote in some WebRTC engine: the counterpart of Godot's
 * `WebRTCPeerConnectionExtension`. `PeerConnection` calls these only in a valid order, with
 * validated text, so a backend needs no checks of its own beyond its engine's traps.
 */
export interface BackendConnection {
  /** Creates an offer; the engine reports it through `localDescription`. */
  createOffer(): void;
  /** Applies the local description that `localDescription` reported, where the engine has not applied it already. */
  setLocalDescription(type: 'offer' | 'answer', sdp: string): void;
  /** Applies the remote description; an offer makes the engine create an answer, reported as usual. */
  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void;
  addRemoteCandidate(mid: string, candidate: string): void;
  createDataChannel(label: string, init: BackendChannelInit): BackendChannel;
  /**
   * Called at the start of every `PeerConnection.poll()`, as `BackendChannel.poll()` is: a backend
   * may ask its engine here what it would otherwise be told by a callback.
   */
  poll?(): void;
  close(): void;
}

/** One data channel in the engine. */
export interface BackendChannel {
  readonly info: BackendChannelInfo;
  setHandlers(handlers: BackendChannelHandlers): void;
  /**
   * Called at the start of every `DataChannel.poll()`: a backend may ask its engine here what it
   * would otherwise be told by a callback (node-datachannel: whether the channel has opened), and
   * report it through the handlers as usual. A connection's poll polls a channel while it is
   * opening and after its handlers reported something, not otherwise.
   */
  poll(): void;
  /** The SCTP stream id; an in-band channel gets its id only once the connection has one. */
  currentId(): number;
  /** Sends bytes; false when the engine refused because the channel is no longer open. */
  sendBinary(data: Uint8Array): boolean;
  /** Sends text; false when the engine refused because the channel is no longer open. */
  sendText(text: string): boolean;
  bufferedAmount(): number;
  maxMessageSize(): number;
  close(): void;
}

/** What rtcmesh lets wait in an engine of one send queue per connection: see `Backend.reliableQueueBytes`. */
export const DEFAULT_RELIABLE_QUEUE_BYTES = 64 * 1024;

/** A WebRTC engine: node-datachannel in Node.js, the W3C API in a browser. */
export interface Backend {
  readonly name: string;
  /**
   * The reliable bytes rtcmesh lets wait in the engine per connection, at the least. An engine
   * that sends every channel of a connection from one queue, in order (libdatachannel), holds
   * keepalives and unreliable state behind what waits there: 64 KiB. One whose SCTP interleaves
   * its streams (a browser's) can be given more, and a shallow queue costs it dearly (Chromium
   * spends several times longer in send() refilling 64 KiB than keeping 1 MiB). Default 64 KiB.
   */
  readonly reliableQueueBytes?: number;
  createConnection(config: BackendConfig, handlers: BackendConnectionHandlers): BackendConnection;
  /** Releases the engine's threads once every connection is closed, where the engine has any. */
  cleanup?(): void;
}
