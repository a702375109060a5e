// One lobby of the signaling server: its name, its members and their peer ids, who is
// introduced to whom, and its seal.
import { randomInt } from 'node:crypto';
import type { Connection } from './connection.js';
import { HOST_PEER_ID, MAX_PEER_ID, MessageType } from './protocol.js';

const LOBBY_NAME_LENGTH = 16;
const LOBBY_NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// Generated names are alphanumeric; "_" and "-" admit hand-picked names and nothing that could
// be a path, a markup or a control character in a log.
const LOBBY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const FIRST_MEMBER_PEER_ID = 2;

/** The fault of a lobby name sent by a joiner, or null when it is well-formed. */
export function lobbyNameFault(name: string): string | null {
  return LOBBY_NAME_PATTERN.test(name) ? null : 'lobby name must be 1 to 64 letters, digits, "_" or "-"';
}

/** A random lobby name that `isTaken` does not refuse. */
export function newLobbyName(isTaken: (name: string) => boolean): string {
  for (;;) {
    let name = '';
    for (let i = 0; i < LOBBY_NAME_LENGTH; i++) {
      name += LOBBY_NAME_ALPHABET[randomInt(LOBBY_NAME_ALPHABET.length)];
    }
    if (!isTaken(name)) return name;
  }
}

/** One lobby: its members by peer id, in the order they joined, and its mode. */
export class Lobby {
  readonly members = new Map<number, Connection>();
  sealed = false;
  private sealTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly mesh: boolean,
  ) {}

  /** In server mode only the host and each client know of each other (docs/wire-format.md, section 5, The exchange). */
  introduces(peerId: number, otherPeerId: number): boolean {
    return this.mesh || peerId === HOST_PEER_ID || otherPeerId === HOST_PEER_ID;
  }

  /**
   * Why a joiner may not enter, or null when it may. The creator sets the mode: a joiner that
   * asked for the other one is admitted into the lobby's, which its ID message tells it, as
   * Godot's servers do.
   */
  joinFault(maxLobbySize: number): string | null {
    const { name } = this;
    if (this.sealed) return `lobby ${name} is sealed`;
    if (this.members.size >= maxLobbySize) return `lobby ${name} is full (limit ${maxLobbySize})`;
    return null;
  }

  /** A random peer id no member holds. */
  newPeerId(): number {
    for (;;) {
      const peerId = randomInt(FIRST_MEMBER_PEER_ID, MAX_PEER_ID + 1);
      if (!this.members.has(peerId)) return peerId;
    }
  }

  /** Makes `connection` the member `peerId` and tells it and the members it is introduced to. */
  admit(connection: Connection, peerId: number): void {
    // The reply order of docs/wire-format.md, section 5: ID, then the introductions in pairs, then the JOIN confirmation.
    connection.send({ type: MessageType.Id, id: peerId, data: this.mesh ? 'true' : '' });
    for (const [memberId, member] of this.members) {
      if (!this.introduces(memberId, peerId)) continue;
      member.send({ type: MessageType.PeerConnect, id: peerId, data: '' });
      connection.send({ type: MessageType.PeerConnect, id: memberId, data: '' });
    }
    this.members.set(peerId, connection);
    connection.lobby = this;
    connection.peerId = peerId;
    connection.send({ type: MessageType.Join, id: 0, data: this.name });
  }

  /** Takes `connection` out of the lobby without telling anyone. */
  remove(connection: Connection): void {
    connection.lobby = null;
    this.members.delete(connection.peerId);
  }

  /**
   * Tells the members who knew of `peerId` that it has left. Not for a sealed lobby: there the
   * links outlive signaling, and Godot's demo client would drop its link on PEER_DISCONNECT.
   */
  announceDeparture(peerId: number): void {
    for (const [memberId, member] of this.members) {
      if (this.introduces(memberId, peerId)) {
        member.send({ type: MessageType.PeerDisconnect, id: peerId, data: '' });
      }
    }
  }

  /**
   * Seals the lobby: tells every member and calls `onSealComplete` after `closeAfterMs`.
   * Returns false, doing nothing, when it is already sealed.
   */
  seal(closeAfterMs: number, onSealComplete: () => void): boolean {
    if (this.sealed) return false;
    this.sealed = true;
    for (const member of this.members.values()) member.send({ type: MessageType.Seal, id: 0, data: '' });
    this.sealTimer = setTimeout(onSealComplete, closeAfterMs);
    return true;
  }

  /** Empties the lobby and stops its seal timer; returns the members it had, detached. */
  dissolve(): Connection[] {
    clearTimeout(this.sealTimer);
    const members = [...this.members.values()];
    this.members.clear();
    // Detach first: the members' own departures must not announce anything to a lobby that is gone.
    for (const member of members) member.lobby = null;
    return members;
  }
}
