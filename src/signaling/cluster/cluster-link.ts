// One node's part in a cluster of signaling servers sharing their lobbies through Redis. A lobby
// lives on the node where its host created it; a socket that joins it on another node stays
// there, and that node forwards its frames to the lobby's node and hands it what comes back. Each
// node watches the heartbeat keys of the nodes it shares lobbies with, and acts on a dead one as
// on its sockets all leaving.
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import type { Connection } from '../connection.js';
import { lobbyNameFault, newLobbyName } from '../lobby.js';
import type { Member } from '../member.js';
import { CLOSE_PROTOCOL_ERROR, encodeMessage, parseFrame, type SignalingMessage } from '../protocol.js';
import type { CloseCause, ServerCounters } from '../server-counters.js';
import type { ServerSettings } from '../server-options.js';
import { type Envelope, MAX_CLOSE_REASON_LENGTH, readEnvelope } from './envelope.js';
import { HEARTBEAT_MS, RedisDirectory } from './redis-directory.js';
import { RemoteMember, remoteKey } from './remote-member.js';

/** What the cluster needs of the server it is part of. */
export interface ClusterHost {
  readonly settings: ServerSettings;
  /** Where dropped envelopes are counted. */
  readonly counters: ServerCounters;
  hasLobby(name: string): boolean;
  lobbyNames(): string[];
  /** Opens a lobby named `name` (reserved in the directory) with `connection` as its host. */
  openLobby(connection: Connection, name: string, mesh: boolean): void;
  /** A JOIN into a lobby of this node, or with a session token; returns the fault, or null. */
  joinHere(member: Member, message: SignalingMessage): string | null;
  /** A frame of a member, checked for size and rate where its socket is. */
  dispatch(member: Member, data: Buffer): void;
  /** Takes a member out of its lobby; `lost` when its socket dropped rather than closed. */
  leave(member: Member, lost: boolean): void;
  closeSocket(member: Member, code: number, reason: string, cause: CloseCause): void;
  /** Runs a handler, reporting what it throws as the server's `error`. */
  guard(handler: () => void): void;
  /** Redis became reachable (true) or unreachable (false). */
  reachable(up: boolean): void;
}

/** WebSocket close code 1013, Try Again Later: the refusal is temporary. */
export const CLOSE_TRY_AGAIN = 1013;
export const CLUSTER_UNAVAILABLE_REASON = 'signaling cluster unavailable (Redis unreachable): try again later';

/** Why a socket whose JOIN the cluster did not place within `joinTimeoutMs` is closed. */
export const CLUSTER_SLOW_REASON = 'signaling cluster too slow to place the JOIN (Redis did not answer in time): try again later';
/** The close reason of a lobby's members when its node stopped: its host was there. */
export const LOBBY_NODE_LOST_REASON = 'lobby host has left: its signaling node stopped';
const KEY_PREFIX = 'rtcmesh:';
const NAME_ATTEMPTS = 4;
// A session token is v1.<lobby>.<peer>.…; the lobby's node checks the rest.
const TOKEN_LOBBY = /^v1\.([A-Za-z0-9_-]{1,64})\./;
// An envelope's frame is a socket's (at most maxFrameBytes) or the server's own message around
// one, which adds the sender's id, a token or TURN credentials.
const ENVELOPE_TEXT_FACTOR = 2;

/** A socket of this node seated in a lobby of another: the lobby's node. */
interface Proxied {
  owner: string;
}

/** This node's side of the cluster. */
export class ClusterLink {
  private directory: RedisDirectory | null = null;
  private heartbeat: NodeJS.Timeout | undefined;
  private beating = false;
  /** Sockets of this node whose JOIN waits on Redis. */
  private readonly pending = new Set<Connection>();
  private readonly proxied = new Map<Connection, Proxied>();
  private readonly proxiedBySerial = new Map<number, Connection>();
  /** Sockets of other nodes in lobbies of this one, by {@link remoteKey}. */
  private readonly remotes = new Map<string, RemoteMember>();
  constructor(private readonly host: ClusterHost) {}

  /** This node's id in the cluster. */
  get nodeId(): string {
    return this.directory?.nodeId ?? '';
  }

  /** Whether the cluster's Redis is reachable, so that sockets may join. */
  get available(): boolean {
    return this.directory?.available ?? false;
  }

  /** Loads the Redis client and starts connecting (in the background: a Redis still down is waited for). */
  async start(url: string): Promise<void> {
    const { Redis } = await import('ioredis');
    this.directory = new RedisDirectory(
      Redis as unknown as new (url: string, options: RedisOptions) => RedisClient,
      url,
      KEY_PREFIX,
      () => this.host.lobbyNames(),
      {
        message: (text) => this.host.guard(() => this.receive(text)),
        available: (forgotten) =>
          this.host.guard(() => {
            if (forgotten) this.forgetEveryNode();
            this.host.reachable(true);
          }),
        unavailable: () => this.host.reachable(false),
      },
    );
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  /** Leaves the cluster; the server has closed its sockets and lobbies already. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.directory?.close();
  }

  /**
   * A JOIN of a socket of this node: answered once Redis has said where its lobby is. Returns a
   * fault when the socket is already joining.
   */
  join(connection: Connection, message: SignalingMessage): string | null {
    const directory = this.directory;
    if (this.pending.has(connection)) return 'already joining a lobby';
    if (directory === null || !directory.available) {
      this.host.closeSocket(connection, CLOSE_TRY_AGAIN, CLUSTER_UNAVAILABLE_REASON, 'cluster_unavailable');
      return null;
    }
    this.pending.add(connection);
    this.place(directory, connection, message)
      .catch(() =>
        this.host.guard(() => {
          if (this.pending.has(connection)) this.host.closeSocket(connection, CLOSE_TRY_AGAIN, CLUSTER_UNAVAILABLE_REASON, 'cluster_unavailable');
        }),
      )
      .finally(() => this.pending.delete(connection));
    return null;
  }

  /** Whether a JOIN of this socket waits on Redis to be placed. */
  isPlacing(connection: Connection): boolean {
    return this.pending.has(connection);
  }

  /** Forwards a frame of a socket seated in another node's lobby; false when it is not one. */
  forwards(connection: Connection, data: Buffer): boolean {
    const proxied = this.proxied.get(connection);
    if (proxied === undefined) return false;
    this.send(proxied.owner, { op: 'frame', from: this.nodeId, serial: connection.serial, text: data.toString('utf8') });
    return true;
  }

  /** A socket of this node ended outside any lobby of this node: its lobby's node is told. */
  leave(connection: Connection, lost: boolean): void {
    this.pending.delete(connection);
    const proxied = this.proxied.get(connection);
    if (proxied === undefined) return;
    this.forgetProxied(connection);
    this.send(proxied.owner, { op: 'leave', from: this.nodeId, serial: connection.serial, lost });
  }

  /** Forwards an OFFER, ANSWER or CANDIDATE where either end is on another node; `data` is its JSON string literal. */
  relay(sender: Member, destination: Member, type: number, data: Uint8Array): void {
    // The literal was checked where the frame was read: it goes on as it came, as between two sockets of one node.
    destination.sendText(`{"type":${type},"id":${sender.peerId},"data":${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')}}`);
  }

  /** A lobby of this node has closed: its name is free again. */
  lobbyClosed(name: string): void {
    this.directory?.release(name);
  }

  private async place(directory: RedisDirectory, connection: Connection, message: SignalingMessage): Promise<void> {
    const { token } = message;
    if (token === undefined && message.data === '') {
      await this.create(directory, connection, message.id === 0);
      return;
    }
    const name = token === undefined ? message.data : (TOKEN_LOBBY.exec(token)?.[1] ?? null);
    if (name === null || lobbyNameFault(name) !== null || this.host.hasLobby(name)) {
      this.joinHere(connection, message);
      return;
    }
    const owner = await directory.ownerOf(name);
    if (!this.pending.has(connection)) return;
    if (owner === null || owner === directory.nodeId) {
      this.joinHere(connection, message);
      return;
    }
    this.proxied.set(connection, { owner });
    this.proxiedBySerial.set(connection.serial, connection);
    this.send(owner, { op: 'join', from: directory.nodeId, serial: connection.serial, text: encodeMessage(message) });
  }

  private async create(directory: RedisDirectory, connection: Connection, mesh: boolean): Promise<void> {
    const { maxLobbies } = this.host.settings;
    for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
      const name = newLobbyName((taken) => this.host.hasLobby(taken));
      const reservation = await directory.reserve(name, maxLobbies);
      if (reservation === 'taken') continue;
      if (!this.pending.has(connection)) {
        if (reservation === 'reserved') directory.release(name);
        return;
      }
      if (reservation === 'full') {
        this.host.closeSocket(connection, CLOSE_PROTOCOL_ERROR, `too many lobbies (limit ${maxLobbies} across the cluster)`, 'join_refused');
        return;
      }
      this.host.guard(() => this.host.openLobby(connection, name, mesh));
      return;
    }
    throw new Error('no free lobby name');
  }

  private joinHere(connection: Connection, message: SignalingMessage): void {
    this.host.guard(() => {
      const fault = this.host.joinHere(connection, message);
      if (fault !== null) this.host.closeSocket(connection, CLOSE_PROTOCOL_ERROR, fault, 'join_refused');
    });
  }

  private receive(text: string): void {
    const envelope = readEnvelope(text, this.host.settings.maxFrameBytes * ENVELOPE_TEXT_FACTOR);
    if (envelope === null) {
      this.host.counters.clusterDropped++;
      return;
    }
    switch (envelope.op) {
      case 'join':
        return this.joinRemote(envelope.from, envelope.serial, envelope.text);
      case 'frame': {
        const member = this.remotes.get(remoteKey(envelope.from, envelope.serial));
        if (member === undefined) return void this.host.counters.clusterDropped++;
        return this.host.dispatch(member, Buffer.from(envelope.text, 'utf8'));
      }
      case 'leave': {
        const member = this.remotes.get(remoteKey(envelope.from, envelope.serial));
        if (member === undefined) return;
        return this.departRemote(member, envelope.lost);
      }
      case 'send': {
        const connection = this.proxiedFrom(envelope);
        const frame = connection === undefined ? null : parseFrame(envelope.text, Number.POSITIVE_INFINITY);
        if (connection === undefined || frame === null || !frame.ok) return void this.host.counters.clusterDropped++;
        // Its lobby's node has answered the JOIN.
        connection.stopJoinTimer();
        return connection.send(frame.message);
      }
      case 'close': {
        const connection = this.proxiedFrom(envelope);
        if (connection === undefined) return;
        this.forgetProxied(connection);
        return this.host.closeSocket(connection, envelope.code, envelope.reason, envelope.cause);
      }
    }
  }

  private joinRemote(node: string, serial: number, text: string): void {
    const key = remoteKey(node, serial);
    if (this.remotes.has(key)) return void this.host.counters.clusterDropped++;
    const member = new RemoteMember(node, serial, {
      send: (to, toSerial, frame) => this.send(to, { op: 'send', from: this.nodeId, serial: toSerial, text: frame }),
      close: (closing, code, reason) => {
        this.remotes.delete(closing.key);
        this.send(closing.node, { op: 'close', from: this.nodeId, serial: closing.serial, code, reason: reason.slice(0, MAX_CLOSE_REASON_LENGTH), cause: closing.cause });
      },
    });
    this.remotes.set(key, member);
    const frame = parseFrame(text, this.host.settings.maxFrameBytes);
    // A node creates its own sockets' lobbies, reserving their names: it never asks another to.
    const creates = frame.ok && frame.message.token === undefined && frame.message.data === '';
    const fault = !frame.ok ? frame.reason : creates ? 'a lobby is created on its host\'s node' : this.host.joinHere(member, frame.message);
    if (fault !== null) this.host.closeSocket(member, CLOSE_PROTOCOL_ERROR, fault, 'join_refused');
  }

  private departRemote(member: RemoteMember, lost: boolean): void {
    this.remotes.delete(member.key);
    member.markGone();
    if (member.lobby !== null) this.host.leave(member, lost);
  }

  private proxiedFrom(envelope: Envelope): Connection | undefined {
    const connection = this.proxiedBySerial.get(envelope.serial);
    if (connection === undefined || this.proxied.get(connection)?.owner !== envelope.from) return undefined;
    return connection;
  }

  private forgetProxied(connection: Connection): void {
    this.proxied.delete(connection);
    this.proxiedBySerial.delete(connection.serial);
  }

  private send(node: string, envelope: Envelope): void {
    this.directory?.publish(node, JSON.stringify(envelope));
  }

  /** Refreshes this node's key; then acts on the nodes it shares lobbies with whose key expired. */
  private async beat(): Promise<void> {
    const directory = this.directory;
    if (directory === null || this.beating) return;
    this.beating = true;
    try {
      if (!(await directory.beat()) || !directory.judging) return;
      const related = new Set<string>();
      for (const { owner } of this.proxied.values()) related.add(owner);
      for (const member of this.remotes.values()) related.add(member.node);
      for (const node of await directory.dead([...related])) this.host.guard(() => this.nodeLost(node));
      await directory.sweep();
    } catch {
      // Redis went away mid-beat; the next beat after it returns picks up.
    } finally {
      this.beating = false;
    }
  }

  /**
   * Back after the other nodes took this one for dead: they have dropped its sockets from their
   * lobbies and its members' from theirs, so it does the same on its side, as if they had all died.
   */
  private forgetEveryNode(): void {
    const nodes = new Set([...[...this.proxied.values()].map(({ owner }) => owner), ...[...this.remotes.values()].map(({ node }) => node)]);
    for (const node of nodes) this.nodeLost(node);
  }

  /** A node stopped: its lobbies end for the sockets here, as if their host left; its sockets leave the lobbies here. */
  private nodeLost(node: string): void {
    for (const [connection, { owner }] of this.proxied) {
      if (owner !== node) continue;
      this.forgetProxied(connection);
      this.host.closeSocket(connection, CLOSE_PROTOCOL_ERROR, LOBBY_NODE_LOST_REASON, 'node_lost');
    }
    for (const member of [...this.remotes.values()]) {
      if (member.node === node) this.departRemote(member, true);
    }
  }
}
