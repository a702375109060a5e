// The server relay (Godot's `server_relay`): in the server topology, a client's packet for other
// clients goes to the server in a RELAY naming its target; the server checks it as if addressed
// to itself and forwards it, stamped with the client's id.
import { TARGET_PEER_SERVER, type TransferMode } from '../mesh/multiplayer-constants.js';
import type { RelayPacket, RpcCodec } from './codec.js';
import type { PathCache } from './path-cache.js';
import type { PeerRpcState } from './peer-rpc-state.js';
import type { RpcHost, RpcInterface } from './rpc-interface.js';

/** What the relay needs beyond the RPC interface's host. */
export interface RelayHost extends RpcHost {
  /** Whether this side is the server of a server topology. */
  isServer(): boolean;
  /** Whether the topology relays at all (server and client topologies). */
  isRelayTopology(): boolean;
  /** Godot `server_relay` on this side. */
  serverRelay(): boolean;
  put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): boolean;
  /** The game's bytes from `sender` (`sendBytes`), for the `peerPacket` event. */
  deliverBytes(sender: number, bytes: Uint8Array): void;
}

/** Handles RELAY packets on the server (forwarding) and on clients (unwrapping). */
export class Relay {
  constructor(
    private readonly host: RelayHost,
    private readonly codec: RpcCodec,
    private readonly paths: PathCache,
    private readonly rpc: RpcInterface,
  ) {}

  /** A RELAY from `from`; anything the topology or the sender's place does not allow is counted `badRelay`. */
  receive(from: number, link: PeerRpcState, message: RelayPacket, mode: TransferMode, channel: number): void {
    if (!this.host.isRelayTopology()) {
      link.dropped.badRelay++;
      return;
    }
    if (this.host.isServer()) this.forward(from, link, message, mode, channel);
    else this.unwrap(from, link, message);
  }

  // On a client: a packet the server forwards from another client.
  private unwrap(from: number, link: PeerRpcState, message: RelayPacket): void {
    const sender = message.peerId;
    if (from !== TARGET_PEER_SERVER || sender < 2 || sender === this.host.selfId()) {
      link.dropped.badRelay++;
      return;
    }
    const inner = message.inner;
    // Calls and bytes come only from a client the server announced, and not after it left.
    if (!this.host.isRelayedPeer(sender)) {
      link.dropped.unknownSender++;
      return;
    }
    if (inner.kind === 'raw') this.host.deliverBytes(sender, inner.bytes);
    else this.rpc.receive(inner, sender, link);
  }

  // On the server: a client's packet for `message.peerId`.
  private forward(from: number, link: PeerRpcState, message: RelayPacket, mode: TransferMode, channel: number): void {
    const inner = message.inner;
    if (!this.host.serverRelay()) {
      link.dropped.badRelay++;
      return;
    }
    const target = message.peerId;
    const local = target === 0 || target === TARGET_PEER_SERVER || (target < 0 && target !== -TARGET_PEER_SERVER);
    const onward = this.host.targets(target, from).filter((id) => id !== TARGET_PEER_SERVER);
    if (inner.kind === 'raw') {
      if (local) this.host.deliverBytes(from, inner.bytes);
      const forwarded = this.codec.encodeRelay(from, message.innerBytes);
      for (const to of onward) this.host.put(to, forwarded, mode, channel);
      return;
    }
    const resolved = this.rpc.resolveCall(inner, from, link);
    if (!resolved) return;
    const { target: callee, method } = resolved;
    if (onward.length > 0) {
      let forwarded: Uint8Array | undefined;
      try {
        forwarded = this.codec.encodeRelay(from, this.codec.readdress(message.innerBytes, callee.address.pathId));
      } catch {
        // Only a call at the very size limit, whose path id grows by a byte, cannot be forwarded.
        link.dropped.oversized++;
      }
      if (forwarded) for (const to of onward) this.paths.deliver(to, callee.address, forwarded, mode, channel);
    }
    if (local) this.rpc.invoke(callee, method, inner.args, from);
  }
}
