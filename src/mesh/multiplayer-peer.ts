import { EventEmitter } from 'eventemitter3';
import { RtcError } from '../transport/index.js';
import { type ConnectionStatus, MAX_PEER_ID, MAX_TRANSFER_CHANNEL, TransferMode } from './multiplayer-constants.js';

/** The events of any multiplayer peer, Godot's signals; delivered inside `poll()`. */
export interface MultiplayerPeerEvents {
  /** Godot `peer_connected`: the peer can be sent to and heard from. */
  peerConnected: (id: number) => void;
  /** Godot `peer_disconnected`: a peer that had connected is gone. */
  peerDisconnected: (id: number) => void;
  /** rtcmesh: a connected peer's link is lost and its session is held for a new connection. */
  peerReconnecting: (id: number) => void;
  /** rtcmesh: a held peer's session resumed on a new connection, nothing reliable lost or doubled. */
  peerReconnected: (id: number) => void;
}

/**
 * The contract every multiplayer peer fulfils: Godot's `MultiplayerPeer`. Packets are put for
 * the target set by `setTargetPeer`, with the current `transferMode` and `transferChannel`, and
 * read one at a time after `poll()`, each with its sender, channel and mode.
 */
export abstract class MultiplayerPeer extends EventEmitter<MultiplayerPeerEvents> {
  private mode = TransferMode.Reliable;
  private channel = 0;
  private refusing = false;
  /** The target of the next `putPacket`: 0 everyone, n peer n, -n everyone but n. */
  protected targetPeer = 0;

  /** Godot `transfer_mode`: how the next packets travel. Default Reliable. */
  get transferMode(): TransferMode {
    return this.mode;
  }

  set transferMode(mode: TransferMode) {
    if (mode !== TransferMode.Reliable && mode !== TransferMode.Unreliable && mode !== TransferMode.UnreliableOrdered) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'transferMode is a TransferMode: Unreliable, UnreliableOrdered or Reliable.');
    }
    this.mode = mode;
  }

  /** Godot `transfer_channel`: 0 for the default channels, N for extra channel N. Default 0. */
  get transferChannel(): number {
    return this.channel;
  }

  set transferChannel(channel: number) {
    if (!Number.isInteger(channel) || channel < 0 || channel > MAX_TRANSFER_CHANNEL) {
      throw new RtcError('ERR_INVALID_PARAMETER', `transferChannel is an integer 0 to ${MAX_TRANSFER_CHANNEL}.`);
    }
    this.channel = channel;
  }

  /** Godot `refuse_new_connections`: while true, no new peer is accepted. */
  get refuseNewConnections(): boolean {
    return this.refusing;
  }

  set refuseNewConnections(refuse: boolean) {
    this.refusing = Boolean(refuse);
  }

  /**
   * Godot `set_target_peer`: 0 sends to everyone, n to peer n, -n to everyone but n.
   * @throws RtcError ERR_INVALID_PARAMETER for anything but an integer within ±(2^31 - 1).
   */
  setTargetPeer(id: number): void {
    if (!Number.isInteger(id) || Math.abs(id) > MAX_PEER_ID) {
      throw new RtcError('ERR_INVALID_PARAMETER', `a target peer is an integer within ±${MAX_PEER_ID}: 0 for everyone.`);
    }
    this.targetPeer = id;
  }

  /** Godot `generate_unique_id`: a random id from 2 to 2^31 - 1, never the server's 1. */
  generateUniqueId(): number {
    const [random] = globalThis.crypto.getRandomValues(new Uint32Array(1));
    return 2 + (random! % (MAX_PEER_ID - 1));
  }

  /** Godot `put_packet`: sends a packet to the target; false when it could not be (counted). */
  abstract putPacket(packet: Uint8Array): boolean;
  /** Godot `get_packet`: the next packet, or null. */
  abstract getPacket(): Uint8Array | null;
  /** Godot `get_available_packet_count`. */
  abstract getAvailablePacketCount(): number;
  /** Godot `get_packet_peer`: the sender of the next packet; 0 when none. */
  abstract getPacketPeer(): number;
  /** Godot `get_packet_channel`: the transfer channel of the next packet. */
  abstract getPacketChannel(): number;
  /** Godot `get_packet_mode`: the transfer mode of the next packet. */
  abstract getPacketMode(): TransferMode;
  /** Godot `poll`: sends what is batched, receives, and delivers events. */
  abstract poll(): void;
  /** Godot `close`: closes every connection; emits nothing further. */
  abstract close(): void;
  /** Godot `disconnect_peer`. */
  abstract disconnectPeer(id: number, force?: boolean): void;
  /** Godot `get_connection_status`. */
  abstract getConnectionStatus(): ConnectionStatus;
  /** Godot `get_unique_id`: this side's peer id. */
  abstract getUniqueId(): number;
  /** Godot `is_server_relay_supported`. */
  abstract isServerRelaySupported(): boolean;
}
