/**
 * The rtcmesh side's signaling: a group of WebRTCMultiplayerPeers whose descriptions and
 * candidates are handed across in memory, as a signaling server would relay them. (The tests'
 * fixture does the same; bench/ keeps its own, which its browser scenario's page runs too.)
 */
// From the layers rather than the Node entry: the browser scenario's page links its peers with this too.
import { type Backend, PeerConnection, type PeerConnectionConfig } from '../src/transport/index.js';
import { type MeshOptions, WebRTCMultiplayerPeer } from '../src/mesh/index.js';
import { LOOPBACK_HOST } from '../src/cli/loopback.js';
import { loopUntil } from './loop.js';
import { withRetries } from './retry.js';

/** Every benchmark connection stays on loopback. */
const LOOPBACK: PeerConnectionConfig = { bindAddress: LOOPBACK_HOST };

/** One member of a brokered group. */
export interface Member {
  id: number;
  peer: WebRTCMultiplayerPeer;
  /** Ids that peerConnected has named and peerDisconnected has not since. */
  connected: Set<number>;
}

/** A group of peers with ids 1..count, linked as the topology says. */
export interface Group {
  members: Member[];
  /** The peer with this id. */
  peer(id: number): WebRTCMultiplayerPeer;
  /** Polls every member once. */
  poll(): void;
  /** Whether every member is connected to every peer the topology gives it. */
  isFormed(): boolean;
  /** Why the group cannot form any more (a connection failed before it did), if it cannot. */
  failure(): string | undefined;
  /** Polls every member once per loop turn until the group is formed. */
  waitFormed(timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface GroupOptions {
  /** `mesh`: every pair linked. `server`: 1 is the server, every other id a client of it. Default mesh. */
  topology?: 'mesh' | 'server';
  meshOptions?: MeshOptions;
  /** The backend of the offering side's connections (a NetworkConditioner's). Default: the default backend. */
  offererBackend?: Backend;
  /** `addPeer`'s unreliable lifetime, ms. Default: addPeer's. */
  unreliableLifetime?: number;
  /** How a wait yields one loop turn. Default: setImmediate's (Node.js); a page passes its own. */
  nextTurn?: () => Promise<void>;
}

/** Makes `count` peers and links them at once (the higher id of each pair offers). */
export function makeGroup(count: number, options: GroupOptions = {}): Group {
  const topology = options.topology ?? 'mesh';
  const members: Member[] = [];
  let failure: string | undefined;
  const fail = (why: string): void => {
    failure ??= why;
  };
  for (let id = 1; id <= count; id++) {
    const peer = new WebRTCMultiplayerPeer(options.meshOptions);
    if (topology === 'mesh') peer.createMesh(id);
    else if (id === 1) peer.createServer();
    else peer.createClient(id);
    const member: Member = { id, peer, connected: new Set() };
    peer.on('peerConnected', (other) => member.connected.add(other));
    peer.on('peerDisconnected', (other) => {
      member.connected.delete(other);
      fail(`peer ${id} lost peer ${other}`);
    });
    members.push(member);
  }
  // The peers each member must end up connected to, by member index.
  const expectedPeers = members.map(({ id }) =>
    topology === 'server' && id !== 1 ? [1] : members.map((member) => member.id).filter((other) => other !== id),
  );
  for (let a = 1; a <= count; a++) {
    for (let b = a + 1; b <= count; b++) {
      if (topology === 'mesh' || a === 1) link(members[a - 1]!, members[b - 1]!, fail, options);
    }
  }
  const group: Group = {
    members,
    peer: (id) => members[id - 1]!.peer,
    poll() {
      for (const member of members) member.peer.poll();
    },
    isFormed: () => members.every((member, n) => member.connected.size === expectedPeers[n]!.length),
    failure: () => failure,
    waitFormed: (timeoutMs = 20_000) =>
      loopUntil(
        () => {
          group.poll();
          // A connection that fails before it connects is removed without an event: look for the gap.
          members.forEach((member, n) => {
            for (const other of expectedPeers[n]!) if (!member.peer.hasPeer(other)) fail(`peer ${member.id} dropped peer ${other}`);
          });
          if (failure) throw new Error(`a ${topology} of ${count} failed to form: ${failure}`);
          return group.isFormed();
        },
        `a ${topology} of ${count} to form`,
        timeoutMs,
        options.nextTurn,
      ),
    close() {
      for (const member of members) member.peer.close();
    },
  };
  return group;
}

/**
 * Links two members: a connection each, the higher id offers (on `offererBackend`, where given).
 * A failure to hand over a description or candidate goes to `fail`.
 */
export function link(a: Member, b: Member, fail: (why: string) => void, { offererBackend, unreliableLifetime }: GroupOptions = {}): void {
  // The higher id offers, as the tests' broker and the signaling client do.
  const aOffers = a.id > b.id;
  const connections = [new PeerConnection(aOffers ? offererBackend : undefined), new PeerConnection(aOffers ? undefined : offererBackend)] as const;
  const [ca, cb] = connections;
  ca.initialize(LOOPBACK);
  cb.initialize(LOOPBACK);
  a.peer.addPeer(ca, b.id, unreliableLifetime);
  b.peer.addPeer(cb, a.id, unreliableLifetime);
  for (const [local, remote] of [
    [ca, cb],
    [cb, ca],
  ] as const) {
    // The engine refuses a candidate once its connection has failed: the group then fails to
    // form, rather than poll() throwing out of the benchmark.
    const relay = (what: string, deliver: () => void): void => {
      try {
        deliver();
      } catch (error) {
        fail(`${what} between ${a.id} and ${b.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    local.on('sessionDescriptionCreated', (type, sdp) =>
      relay('the description', () => {
        local.setLocalDescription(type, sdp);
        remote.setRemoteDescription(type, sdp);
      }),
    );
    local.on('iceCandidateCreated', (media, index, name) => relay('a candidate', () => remote.addIceCandidate(media, index, name)));
  }
  (aOffers ? ca : cb).createOffer();
}

/** Makes a group and waits for it to form; retried on failure (see retry.ts). */
export function formGroup(count: number, options: GroupOptions = {}, timeoutMs?: number): Promise<Group> {
  return withRetries(`a ${options.topology ?? 'mesh'} of ${count}`, () => tryGroup(count, options, timeoutMs));
}

/** Makes a group and waits for it to form; closes it and rethrows on failure or timeout. */
export async function tryGroup(count: number, options: GroupOptions = {}, timeoutMs?: number): Promise<Group> {
  const group = makeGroup(count, options);
  try {
    await group.waitFormed(timeoutMs);
  } catch (error) {
    group.close();
    throw error;
  }
  return group;
}
