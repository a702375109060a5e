// What a lobby holds for each member: a socket of this server (Connection), or, with several
// nodes, a socket of another node reached through the cluster (RemoteMember).
import type { Lobby } from './lobby.js';
import type { SignalingMessage } from './protocol.js';
import type { CloseCause } from './server-counters.js';

/** One member of a lobby, wherever its socket is. */
export interface Member {
  /** Serial number of the socket on the node that accepted it. */
  readonly serial: number;
  lobby: Lobby | null;
  peerId: number;
  /** Sends a message if the socket is still open. */
  send(message: SignalingMessage): void;
  /** Sends a message already encoded (a relayed one) if the socket is still open. */
  sendText(text: string): void;
  stopJoinTimer(): void;
  /** Records that the server ends this socket; false if it is already ended or not open. */
  markEndedByServer(code: number, reason: string, cause: CloseCause): boolean;
  /** Sends the close frame. */
  sendClose(code: number, reason: string): void;
}
