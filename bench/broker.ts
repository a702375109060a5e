/**
 * A group of WebRTCMultiplayerPeers whose descriptions and candidates are handed across in
 * memory, as a signaling server would relay them: the benchmark's rtcmesh side, and the tests'
 * fixture (test/ imports it from here; bench/ never imports test/).
 */
// From the layers rather than the Node entry: the browser scenario's page links its peers with this too.
import { type Backend, PeerConnection, type PeerConnectionConfig } from '../src/transport/index.js';
import { type ChannelConfig, type MeshOptions, WebRTCMultiplayerPeer } from '../src/mesh/index.js';
import { LOOPBACK_HOST } from '../src/cli/loopback.js';
import { loopUntil, pollUntil } from './loop.js';
import { withRetries } from './retry.js';

/** One member of a brokered group. */
export interface Member {
  id: number;
  peer: WebRTCMultiplayerPeer;
  /** Ids seen in peerConnected / peerDisconnected, in order. */
  connected: number[];
  disconnected: number[];
}

/** A group of peers with ids 1..count, linked as the topology says. */
export interface Group {
  members: Member[];
  byId(id: number): Member;
  /** The peer with this id. */
  peer(id: number): WebRTCMultiplayerPeer;
  /** Polls every member once. */
  poll(): void;
  /**
   * Polls every member until `done()`, with the group's `pause` between polls. Rejects at once
   * when a description or candidate could not be handed over.
   */
  pollUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Links `a` and `b` (ids): a PeerConnection on each side, the higher id offers. */
  link(a: number, b: number, lifetime?: number): void;
  /** Whether every member is connected to every peer the topology gives it. */
  isFormed(): boolean;
  /** Why the group cannot form any more (a connection failed or was lost before it did), if it cannot. */
  failure(): string | undefined;
  /** Polls every member once per loop turn until the group is formed. */
  waitFormed(timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface GroupOptions {
  /** `mesh`: every pair linked. `server`: 1 is the server, every other id a client of it. Default mesh. */
  topology?: 'mesh' | 'server';
  /** The extra channels of every member. Default none. */
  channels?: ChannelConfig[];
  meshOptions?: MeshOptions;
  /** Over the loopback-only configuration every connection gets. */
  peerConfig?: PeerConnectionConfig;
  /** The engine every connection runs on. Default: the default backend. */
  backend?: Backend;
  /** The engine of the offering side's connections only (a NetworkConditioner's). Default: `backend`. */
  offererBackend?: Backend;
  /** `addPeer`'s unreliable lifetime, ms. Default: addPeer's. */
  unreliableLifetime?: number;
  /** What `pollUntil` waits between polls. Default: one event-loop turn (setImmediate's); a page passes its own. */
  pause?: () => Promise<void>;
  /** Leave the links to the caller (default: every pair the topology has, linked at once). */
  manualLinks?: boolean;
}

/** Makes `count` peers and, unless told otherwise, links them at once (the higher id of each pair offers). */
export function makeGroup(count: number, options: GroupOptions = {}): Group {
  const topology = options.topology ?? 'mesh';
  const members: Member[] = [];
  let failure: string | undefined;
  let relayFailure: string | undefined;
  const fail = (why: string): void => {
    failure ??= why;
  };
  const failRelay = (why: string): void => {
    relayFailure ??= why;
    fail(why);
  };
  for (let id = 1; id <= count; id++) {
    const peer = new WebRTCMultiplayerPeer(options.meshOptions);
    if (topology === 'mesh') peer.createMesh(id, options.channels);
    else if (id === 1) peer.createServer(options.channels);
    else peer.createClient(id, options.channels);
    const member: Member = { id, peer, connected: [], disconnected: [] };
    peer.on('peerConnected', (other) => member.connected.push(other));
    peer.on('peerDisconnected', (other) => {
      member.disconnected.push(other);
      fail(`peer ${id} lost peer ${other}`);
    });
    members.push(member);
  }
  const byId = (id: number): Member => members.find((member) => member.id === id)!;
  // The peers each member must end up connected to, by member index.
  const expectedPeers = members.map(({ id }) =>
    topology === 'server' && id !== 1 ? [1] : members.map((member) => member.id).filter((other) => other !== id),
  );
  const group: Group = {
    members,
    byId,
    peer: (id) => byId(id).peer,
    poll() {
      for (const member of members) member.peer.poll();
    },
    pollUntil: (done, what, timeoutMs = 10_000) =>
      pollUntil(
        members.map((member) => member.peer),
        () => {
          if (relayFailure) throw new Error(`waiting for ${what}: ${relayFailure}`);
          return done();
        },
        what,
        timeoutMs,
        options.pause,
      ),
    link: (a, b, lifetime = options.unreliableLifetime) => link(byId(a), byId(b), failRelay, { ...options, unreliableLifetime: lifetime }),
    isFormed: () => members.every((member, n) => expectedPeers[n]!.every((other) => member.connected.includes(other))),
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
        options.pause,
      ),
    close() {
      for (const member of members) member.peer.close();
    },
  };
  if (!options.manualLinks) {
    for (let a = 1; a <= count; a++) {
      for (let b = a + 1; b <= count; b++) if (topology === 'mesh' || a === 1) group.link(a, b);
    }
  }
  return group;
}

/** What {@link link} needs of a peer: its id and its multiplayer peer. */
export type Linkable = Pick<Member, 'id' | 'peer'>;

/**
 * Links two peers: a connection each on loopback, the higher id offers (on `offererBackend`,
 * where given). A failure to hand over a description or candidate goes to `fail`.
 */
export function link(a: Linkable, b: Linkable, fail: (why: string) => void, options: GroupOptions = {}): void {
  const { backend, offererBackend = backend, unreliableLifetime, peerConfig } = options;
  // The higher id offers, as the signaling client does.
  const aOffers = a.id > b.id;
  const connections = [new PeerConnection(aOffers ? offererBackend : backend), new PeerConnection(aOffers ? backend : offererBackend)] as const;
  const [ca, cb] = connections;
  for (const connection of connections) connection.initialize({ bindAddress: LOOPBACK_HOST, ...peerConfig });
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
