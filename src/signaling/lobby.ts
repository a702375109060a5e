// One lobby of the signaling server: its name, its members and their peer ids, who is
// introduced to whom, and its seal.
import { randomInt } from 'node:crypto';
import type { Member } from './member.js';
import { HOST_PEER_ID, MAX_PEER_ID, MessageType, type SignalingMessage } from './protocol.js';

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

/** What the ID message of an admitted member carries besides its id. */
export type Grant = Pick<SignalingMessage, 'token' | 'turn'>;

/** One lobby: its members by peer id, in the order they joined, and its mode. */
export class Lobby {
  readonly members = new Map<number, Member>();
  /** The generation of the latest session token issued for each seat, live or held. */
  readonly generations = new Map<number, number>();
  sealed = false;
  private sealTimer: NodeJS.Timeout | undefined;
  /** Seats of members whose socket was lost, kept for their return until the timer fires. */
  private readonly held = new Map<number, NodeJS.Timeout>();

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
    if (this.members.size + this.held.size >= maxLobbySize) return `lobby ${name} is full (limit ${maxLobbySize})`;
    return null;
  }

  /** A random peer id no member holds. */
  newPeerId(): number {
    for (;;) {
      const peerId = randomInt(FIRST_MEMBER_PEER_ID, MAX_PEER_ID + 1);
      if (!this.members.has(peerId) && !this.held.has(peerId)) return peerId;
    }
  }

  /**
   * Makes `connection` the member `peerId` and tells it and the members it is introduced to.
   * `grant` (a session token when resumption is on, TURN credentials when TURN is) goes with the ID.
   */
  admit(connection: Member, peerId: number, grant: Grant): void {
    // The reply order of docs/wire-format.md, section 5: ID, then the introductions in pairs, then the JOIN confirmation.
    connection.send({ type: MessageType.Id, id: peerId, data: this.mesh ? 'true' : '', ...grant });
    for (const [memberId, member] of this.members) {
      if (!this.introduces(memberId, peerId)) continue;
      member.send({ type: MessageType.PeerConnect, id: peerId, data: '' });
      connection.send({ type: MessageType.PeerConnect, id: memberId, data: '' });
    }
    this.seat(connection, peerId);
  }

  /**
   * Gives a returning token holder its seat `peerId` back, on `connection`, with a fresh `token`.
   * With `resume`, it and its peers are told to resume the sessions they hold (PEER_CONNECT with
   * `resume`); without, its state is gone: its peers see it leave and join again. TURN
   * credentials in `grant`, when TURN is on, go with the ID.
   */
  readmit(connection: Member, peerId: number, token: string, resume: boolean, grant: Grant): void {
    this.unhold(peerId);
    connection.send({ type: MessageType.Id, id: peerId, data: this.mesh ? 'true' : '', ...grant, token });
    for (const [memberId, member] of this.members) {
      if (memberId === peerId || !this.introduces(memberId, peerId)) continue;
      if (!resume) member.send({ type: MessageType.PeerDisconnect, id: peerId, data: '' });
      member.send({ type: MessageType.PeerConnect, id: peerId, data: '', ...(resume ? { resume } : {}) });
      connection.send({ type: MessageType.PeerConnect, id: memberId, data: '', ...(resume ? { resume } : {}) });
    }
    this.seat(connection, peerId);
  }

  /** Keeps the seat of a member whose socket was lost; `onExpired` runs after `ms` unless it returns. */
  hold(peerId: number, ms: number, onExpired: () => void): void {
    this.unhold(peerId);
    this.held.set(peerId, setTimeout(() => {
      this.held.delete(peerId);
      this.generations.delete(peerId);
      onExpired();
    }, ms));
  }

  /** Seats held for returning members. */
  get heldSeats(): number {
    return this.held.size;
  }

  /** Whether the seat `peerId` is held for a returning member. */
  isHeld(peerId: number): boolean {
    return this.held.has(peerId);
  }

  /** Ends the hold of a seat, if any. */
  private unhold(peerId: number): void {
    clearTimeout(this.held.get(peerId));
    this.held.delete(peerId);
  }

  private seat(connection: Member, peerId: number): void {
    this.members.set(peerId, connection);
    connection.lobby = this;
    connection.peerId = peerId;
    connection.send({ type: MessageType.Join, id: 0, data: this.name });
  }

  /** Takes `connection` out of the lobby without telling anyone. */
  remove(connection: Member): void {
    connection.lobby = null;
    // A seat already taken over by a resumed session stays with it.
    if (this.members.get(connection.peerId) === connection) this.members.delete(connection.peerId);
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
   * Seals the lobby: tells every member and calls `onSealComplete` after `closeAfterMs` (never
   * when it is null: with resumption on, members stay on signaling for the whole match).
   * Returns false, doing nothing, when it is already sealed.
   */
  seal(closeAfterMs: number, onSealComplete: (() => void) | null): boolean {
    if (this.sealed) return false;
    this.sealed = true;
    for (const member of this.members.values()) member.send({ type: MessageType.Seal, id: 0, data: '' });
    if (onSealComplete !== null) this.sealTimer = setTimeout(onSealComplete, closeAfterMs);
    return true;
  }

  /** Empties the lobby and stops its seal timer; returns the members it had, detached. */
  dissolve(): Member[] {
    clearTimeout(this.sealTimer);
    for (const timer of this.held.values()) clearTimeout(timer);
    this.held.clear();
    const members = [...this.members.values()];
    this.members.clear();
    // Detach first: the members' own departures must not announce anything to a lobby that is gone.
    for (const member of members) member.lobby = null;
    return members;
  }
}
