// Clients that see each other (Godot's server relay, SYS_COMMAND_ADD_PEER / DEL_PEER): the
// server tells each admitted client of every other one, and a client keeps the peers it was told
// of, whose calls and bytes reach it through the server.
import { TARGET_PEER_SERVER, TransferMode } from '../mesh/multiplayer-constants.js';
import type { PeerNoticePacket, RpcCodec } from '../rpc/codec.js';
import { PeerRpcState } from '../rpc/peer-rpc-state.js';

/** The most peers a client keeps from the server's notices; a notice past it is dropped. */
export const MAX_RELAYED_PEERS = 4096;

/** What the peer notices need of the multiplayer API around them. */
export interface RelayedPeersHost {
  selfId(): number;
  isServer(): boolean;
  isRelayTopology(): boolean;
  serverRelay(): boolean;
  /** The peers admitted directly (on the server: its clients). */
  admitted(): Iterable<number>;
  put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean;
  /** A relayed peer appeared or went, for the `peerConnected` / `peerDisconnected` events. */
  announce(peerId: number, connected: boolean): void;
}

/** The server's notices to its clients, and a client's peers known through the server. */
export class RelayedPeers {
  /** On a client: the peers the server told of, each with the RPC state of its calls here. */
  private readonly known = new Map<number, PeerRpcState>();

  constructor(
    private readonly host: RelayedPeersHost,
    private readonly codec: RpcCodec,
  ) {}

  ids(): IterableIterator<number> {
    return this.known.keys();
  }

  stateOf(peerId: number): PeerRpcState | undefined {
    return this.known.get(peerId);
  }

  has(peerId: number): boolean {
    return this.known.has(peerId);
  }

  /** On the server: a client was admitted; it and every other client learn of each other. */
  onAdmitted(peerId: number): void {
    if (!this.serverRelays() || peerId === TARGET_PEER_SERVER) return;
    const added = this.codec.encodePeerNotice('peerAdd', peerId);
    for (const other of this.host.admitted()) {
      if (other === peerId) continue;
      this.notify(other, added);
      this.notify(peerId, this.codec.encodePeerNotice('peerAdd', other));
    }
  }

  /** On the server: an admitted client left; the others are told. */
  onRemoved(peerId: number): void {
    if (!this.serverRelays() || peerId === TARGET_PEER_SERVER) return;
    const removed = this.codec.encodePeerNotice('peerRemove', peerId);
    for (const other of this.host.admitted()) if (other !== peerId) this.notify(other, removed);
  }

  /** A PEER_ADD or PEER_REMOVE from `from`; what this side cannot take is counted on `link`. */
  receive(from: number, link: PeerRpcState, notice: PeerNoticePacket): void {
    const peerId = notice.peerId;
    const client = this.host.isRelayTopology() && !this.host.isServer() && this.host.serverRelay();
    const fits = notice.kind === 'peerAdd' ? !this.known.has(peerId) && this.known.size < MAX_RELAYED_PEERS : this.known.has(peerId);
    if (!client || from !== TARGET_PEER_SERVER || peerId === this.host.selfId() || !fits) {
      link.dropped.badPeerNotice++;
      return;
    }
    if (notice.kind === 'peerAdd') this.known.set(peerId, new PeerRpcState());
    else this.known.delete(peerId);
    this.host.announce(peerId, notice.kind === 'peerAdd');
  }

  /** On a client that lost the server: every peer known through it is gone. */
  dropAll(): void {
    for (const peerId of [...this.known.keys()]) {
      this.known.delete(peerId);
      this.host.announce(peerId, false);
    }
  }

  /** Forgets every peer, without events (the multiplayer peer was replaced). */
  clear(): void {
    this.known.clear();
  }

  private serverRelays(): boolean {
    return this.host.isServer() && this.host.isRelayTopology() && this.host.serverRelay();
  }

  // Notices travel on the reliable channel 0, ahead of anything relayed from the peer they name.
  private notify(to: number, packet: Uint8Array): void {
    this.host.put(to, packet, TransferMode.Reliable, 0);
  }
}
