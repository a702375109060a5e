// Authentication (Godot's SceneMultiplayer auth): a peer the multiplayer peer connected stays
// here, out of the game's sight, until both sides have called completeAuth for each other. Only
// AUTH and AUTH_COMPLETE pass in the meantime, bounded in size and count.
import { PeerRpcState } from '../rpc/peer-rpc-state.js';
import type { DecodedPacket, RpcCodec } from '../rpc/codec.js';
import { RtcError } from '../transport/errors.js';

/**
 * Godot `auth_callback`: receives the authentication data a peer sent with `sendAuth`. It answers
 * with `sendAuth`, accepts with `completeAuth` (now or later), and refuses with `disconnectPeer`
 * or by throwing (reported as the `error` event).
 */
export type AuthCallback = (peerId: number, data: Uint8Array) => void;

/** The bounds on one authentication. */
export interface AuthenticationLimits {
  /** Bytes of one AUTH's data. */
  maxAuthBytes: number;
  /** AUTH packets one peer may send while it authenticates; those past it are dropped. */
  maxAuthPackets: number;
}

/** A peer between its connection and the end of its authentication. */
interface Session {
  readonly link: PeerRpcState;
  readonly deadline: number;
  /** This side called completeAuth. */
  local: boolean;
  /** The peer sent AUTH_COMPLETE. */
  remote: boolean;
  received: number;
}

/** What authentication needs of the multiplayer API around it. */
export interface AuthenticationHost {
  /** The game's callback; null while authentication is off. */
  callback(): AuthCallback | null;
  /** Puts a packet for a peer that is not admitted yet, on the reliable channel 0. */
  putUnadmitted(to: number, packet: Uint8Array): boolean;
  /** Both sides have completed: the peer joins the game. */
  admit(peerId: number, link: PeerRpcState): void;
  /** The authentication failed: the peer is cut off and `peerAuthenticationFailed` emitted. */
  fail(peerId: number): void;
  reportError(error: Error, context: { peerId: number }): void;
}

/** The peers authenticating with this side. */
export class Authentication {
  private readonly sessions = new Map<number, Session>();

  constructor(
    private readonly host: AuthenticationHost,
    private readonly codec: RpcCodec,
    private readonly limits: AuthenticationLimits,
    private readonly now: () => number,
  ) {}

  /** Godot `get_authenticating_peers`. */
  peers(): number[] {
    return [...this.sessions.keys()];
  }

  /** The RPC-layer state of an authenticating peer, where its drops are counted. */
  linkOf(peerId: number): PeerRpcState | undefined {
    return this.sessions.get(peerId)?.link;
  }

  /** A peer the multiplayer peer connected, authenticating for at most `timeoutMs`. */
  begin(peerId: number, timeoutMs: number): void {
    this.sessions.set(peerId, { link: new PeerRpcState(), deadline: this.now() + timeoutMs, local: false, remote: false, received: 0 });
  }

  /** Forgets a peer; whether it was authenticating. */
  end(peerId: number): boolean {
    return this.sessions.delete(peerId);
  }

  /** Forgets every peer, without events (the multiplayer peer was replaced). */
  clear(): void {
    this.sessions.clear();
  }

  /**
   * Godot `send_auth`.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not authenticating; ERR_ALREADY_EXISTS once this
   * side completed; ERR_INVALID_PARAMETER for data empty or over `maxAuthBytes`.
   */
  send(peerId: number, data: Uint8Array): boolean {
    const session = this.require(peerId);
    if (session.local) throw new RtcError('ERR_ALREADY_EXISTS', `authentication of peer ${peerId} is complete on this side: nothing more can be sent.`);
    if (data instanceof Uint8Array && data.length > this.limits.maxAuthBytes) {
      throw new RtcError('ERR_INVALID_PARAMETER', `authentication data takes at most maxAuthBytes (${this.limits.maxAuthBytes}) bytes, not ${data.length}.`);
    }
    return this.host.putUnadmitted(peerId, this.codec.encodeAuth(data));
  }

  /**
   * Godot `complete_auth`: this side accepts the peer; it joins once the peer accepts this side.
   * @throws RtcError ERR_DOES_NOT_EXIST for a peer not authenticating; ERR_ALREADY_EXISTS for a second call.
   */
  complete(peerId: number): void {
    const session = this.require(peerId);
    if (session.local) throw new RtcError('ERR_ALREADY_EXISTS', `completeAuth(${peerId}) was called already.`);
    session.local = true;
    this.host.putUnadmitted(peerId, this.codec.encodeAuthComplete());
    if (session.remote) this.admit(peerId, session);
  }

  /**
   * A packet from an authenticating peer. AUTH goes to the callback, AUTH_COMPLETE is noted; any
   * other packet is dropped, unless this side has completed: the peer sends game packets only
   * once it has completed too, so such a packet stands for an AUTH_COMPLETE that another channel
   * has not delivered yet. Returns true when the peer was admitted and the packet is the game's.
   */
  receive(peerId: number, message: DecodedPacket): boolean {
    const session = this.sessions.get(peerId)!;
    const dropped = session.link.dropped;
    if (message.kind === 'auth') {
      if (++session.received > this.limits.maxAuthPackets) dropped.authFlood++;
      else if (message.bytes.length > this.limits.maxAuthBytes) dropped.authTooLarge++;
      else this.deliver(peerId, message.bytes.slice());
      return false;
    }
    if (message.kind === 'authComplete') {
      session.remote = true;
      if (session.local) this.admit(peerId, session);
      return false;
    }
    if (!session.local) {
      dropped.notAuthenticated++;
      return false;
    }
    this.admit(peerId, session);
    return true;
  }

  /** Fails every peer past its deadline (Godot `auth_timeout`). */
  expire(): void {
    if (this.sessions.size === 0) return;
    const now = this.now();
    for (const [peerId, session] of [...this.sessions]) {
      if (session.deadline <= now && this.sessions.get(peerId) === session) this.host.fail(peerId);
    }
  }

  private deliver(peerId: number, data: Uint8Array): void {
    const callback = this.host.callback();
    if (!callback) {
      this.sessions.get(peerId)!.link.dropped.unexpectedAuth++;
      return;
    }
    try {
      callback(peerId, data);
    } catch (error) {
      this.host.reportError(error instanceof Error ? error : new Error(String(error)), { peerId });
      if (this.sessions.has(peerId)) this.host.fail(peerId);
    }
  }

  private admit(peerId: number, session: Session): void {
    this.sessions.delete(peerId);
    this.host.admit(peerId, session.link);
  }

  private require(peerId: number): Session {
    const session = this.sessions.get(peerId);
    if (!session) throw new RtcError('ERR_DOES_NOT_EXIST', `peer ${peerId} is not authenticating: see getAuthenticatingPeers().`);
    return session;
  }
}
