// A member of one of this node's lobbies whose socket is on another node: what the lobby sends it
// goes to that node through Redis, which hands it to the socket.
import type { Lobby } from '../lobby.js';
import type { Member } from '../member.js';
import { encodeMessage, type SignalingMessage } from '../protocol.js';
import type { CloseCause } from '../server-counters.js';

/** Where a remote member's messages go: its node's channel. */
export interface RemoteRoute {
  send(node: string, serial: number, text: string): void;
  close(member: RemoteMember, code: number, reason: string): void;
}

/** One socket of another node, seated in a lobby of this one. */
export class RemoteMember implements Member {
  lobby: Lobby | null = null;
  peerId = 0;
  private ended = false;
  /** Why the server ended it, once it has. */
  cause: CloseCause = 'client';

  constructor(
    readonly node: string,
    readonly serial: number,
    private readonly route: RemoteRoute,
  ) {}

  /** Its node's key for the socket: node id and serial. */
  get key(): string {
    return remoteKey(this.node, this.serial);
  }

  send(message: SignalingMessage): void {
    if (!this.ended) this.route.send(this.node, this.serial, encodeMessage(message));
  }

  sendText(text: string): void {
    if (!this.ended) this.route.send(this.node, this.serial, text);
  }

  /** The lobby's node answers for it: there is no join timer here. */
  stopJoinTimer(): void {}

  markEndedByServer(_code: number, _reason: string, cause: CloseCause): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.cause = cause;
    return true;
  }

  sendClose(code: number, reason: string): void {
    this.route.close(this, code, reason);
  }

  /** Its node reported the socket gone: nothing more is sent to it. */
  markGone(): void {
    this.ended = true;
  }
}

/** The key of socket `serial` of `node`. */
export function remoteKey(node: string, serial: number): string {
  return `${node}/${serial}`;
}
