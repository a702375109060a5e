// A peer whose process dies says nothing: no close, no goodbye over signaling. The others must
// find out by themselves, from the keepalive alone, and play on among themselves.
import { afterEach, expect, it } from 'vitest';
import { SignalingServer } from '../../src/signaling/index.js';
import { EventProcess } from '../support/event-process.js';

const PEER_COUNT = 4;
const KEEPALIVE_TIMEOUT_MS = 2000;
// The keepalive counts silence from the last packet heard, one tick before the kill at worst;
// the rest is for a tick that runs late. A loaded machine may run the tick that reads the last
// packet and the one that judges the silence later still: the bound grows by twice the longest
// gap between two ticks the survivor reports.
const DETECTION_MARGIN_MS = 1000;
// Waited for well past the bound, so that a late detection fails with its time, not a timeout;
// within the span of ticks a survivor reports on (mesh-peer-process.mjs).
const DETECTION_WAIT_MS = 10_000;
// A mesh of four forms in 1–2.5 s here, node's start-up included; a loaded machine is slower.
// A link that fails to form fails the test.
const MESH_ATTEMPT_MS = 20_000;
// A traffic report comes every 250 ms (mesh-peer-process.mjs); this is many of them, even late.
const TRAFFIC_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = MESH_ATTEMPT_MS + DETECTION_WAIT_MS + TRAFFIC_TIMEOUT_MS + EXIT_TIMEOUT_MS + 10_000;

/** One line of mesh-peer-process.mjs. */
type PeerEvent =
  | { event: 'joined'; id: number; lobby: string }
  | { event: 'peerConnected'; id: number }
  | { event: 'linkFailed'; id: number }
  | { event: 'peerDisconnected'; id: number; at: number; longestTickGapMs: number }
  | { event: 'signalingClosed'; code: number; reason: string }
  | { event: 'traffic'; receivedFrom: Record<string, number> };

type EventOf<K extends PeerEvent['event']> = Extract<PeerEvent, { event: K }>;

/** A mesh-peer-process.mjs child. */
class MeshPeerProcess extends EventProcess<PeerEvent> {
  constructor(url: string, lobby: string) {
    super('./mesh-peer-process.mjs', ['--url', url, '--lobby', lobby, '--keepalive-timeout-ms', String(KEEPALIVE_TIMEOUT_MS)]);
  }
}

const peers: MeshPeerProcess[] = [];
const servers: SignalingServer[] = [];

afterEach(async () => {
  await stopPeers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Kills every child started and waits for its exit. */
async function stopPeers(): Promise<void> {
  // SIGKILL: whatever state a failed test left a child in, nothing it does can keep it alive.
  const children = peers.splice(0);
  for (const peer of children) peer.kill('SIGKILL');
  await Promise.all(children.map((peer) => peer.exited));
}

function startPeer(url: string, lobby: string): MeshPeerProcess {
  const peer = new MeshPeerProcess(url, lobby);
  peers.push(peer);
  return peer;
}

async function joinedId(peer: MeshPeerProcess): Promise<number> {
  return (await peer.waitFor('joined', 'joined', MESH_ATTEMPT_MS)).id;
}

function connectedIds(peer: MeshPeerProcess): Set<number> {
  return new Set(peer.events.flatMap((event) => (event.event === 'peerConnected' ? [event.id] : [])));
}


async function meshed(peer: MeshPeerProcess, id: number): Promise<void> {
  const kinds = ['peerConnected', 'linkFailed'] as const;
  const everyOtherOrFailed = (event: EventOf<(typeof kinds)[number]>): boolean =>
    event.event === 'linkFailed' || connectedIds(peer).size === PEER_COUNT - 1;
  const last = await peer.waitFor(kinds, `${PEER_COUNT - 1} peerConnected`, MESH_ATTEMPT_MS, everyOtherOrFailed);
  if (last.event === 'linkFailed') throw new Error(`the link from ${id} to ${last.id} failed to form`);
}

interface Mesh {
  host: MeshPeerProcess;
  hostId: number;
  members: MeshPeerProcess[];
  memberIds: number[];
}

/** Starts PEER_COUNT peers in a new lobby and waits until each has connected to every other. */
async function formMesh(url: string): Promise<Mesh> {
  try {
    return await within(startMesh(url), MESH_ATTEMPT_MS, `a mesh of ${PEER_COUNT}`);
  } catch (error) {
    await stopPeers();
    throw error;
  }
}

async function startMesh(url: string): Promise<Mesh> {
  const host = startPeer(url, '');
  const { lobby, id: hostId } = await host.waitFor('joined', 'joined', MESH_ATTEMPT_MS);
  const members = Array.from({ length: PEER_COUNT - 1 }, () => startPeer(url, lobby));
  const memberIds = await Promise.all(members.map(joinedId));
  const ids = [hostId, ...memberIds];
  await Promise.all([host, ...members].map((peer, index) => meshed(peer, ids[index]!)));
  return { host, hostId, members, memberIds };
}

/** The packets `peer` had received from `from` at its latest traffic report. */
function receivedCount(peer: MeshPeerProcess, from: number): number {
  const reports = peer.events.filter((event): event is EventOf<'traffic'> => event.event === 'traffic');
  return reports.at(-1)?.receivedFrom[from] ?? 0;
}

/** `promise`, or a rejection naming `what` after `timeoutMs`; the timer never outlives it. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

it(
  'drops a peer killed with SIGKILL within the keepalive timeout on every survivor, who keep exchanging packets',
  async ({ annotate }) => {
    const server = new SignalingServer({ host: '127.0.0.1', port: 0 });
    servers.push(server);
    const { url } = await server.listen();
    const { host, hostId: victimId, members: survivors, memberIds: survivorIds } = await formMesh(url);

    // The host, so that signaling cannot tell: its departure closes the lobby under the others
    // without a PEER_DISCONNECT, which leaves the keepalive as the only witness.
    const killedAt = Date.now();
    host.kill('SIGKILL');
    const detections = await Promise.all(
      survivors.map((survivor) =>
        survivor.waitFor('peerDisconnected', `peerDisconnected of ${victimId}`, DETECTION_WAIT_MS, ({ id }) => id === victimId),
      ),
    );
    const detectionMs = detections.map(({ at }) => at - killedAt);
    await annotate(`peerDisconnected ${detectionMs.join(', ')} ms after the kill`);
    for (const [n, ms] of detectionMs.entries()) {
      expect(ms).toBeLessThanOrEqual(KEEPALIVE_TIMEOUT_MS + DETECTION_MARGIN_MS + 2 * detections[n]!.longestTickGapMs);
    }

    const othersOf = (index: number): number[] => survivorIds.filter((_, other) => other !== index);
    const countsAtDetection = survivors.map((survivor, index) =>
      othersOf(index).map((from) => receivedCount(survivor, from)),
    );
    await Promise.all(
      survivors.map((survivor, index) =>
        survivor.waitFor('traffic', 'more packets from both other survivors', TRAFFIC_TIMEOUT_MS, ({ receivedFrom }) =>
          othersOf(index).every((from, other) => (receivedFrom[from] ?? 0) > countsAtDetection[index]![other]!),
        ),
      ),
    );
    // The survivors lost no one but the victim.
    for (const survivor of survivors) {
      expect(survivor.events.filter((event) => event.event === 'peerDisconnected')).toHaveLength(1);
    }

    // And they still shut down cleanly: close, cleanup() without a crash, exit 0.
    for (const survivor of survivors) survivor.kill('SIGTERM');
    const exited = Promise.all(survivors.map((survivor) => survivor.exited));
    const exits = await within(exited, EXIT_TIMEOUT_MS, 'exiting on SIGTERM');
    expect(exits).toEqual(survivors.map(() => ({ code: 0, signal: null })));
  },
  TEST_TIMEOUT_MS,
);
