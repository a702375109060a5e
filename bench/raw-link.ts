/**
 * The raw baseline: two node-datachannel PeerConnections wired to each other in memory, with
 * negotiated channels and nothing of rtcmesh in between. It follows the engine's traps (docs/design.md) as rtcmesh's
 * backend does, so that the two differ only by rtcmesh: loopback only, no auto-negotiation,
 * candidates held until they are safe to apply, onStateChange and every onClosed registered, and
 * every native object held until it has closed.
 */
import nodeDataChannel from 'node-datachannel';
import type { DataChannelInitConfig, DescriptionType, RtcConfig } from 'node-datachannel';
import { LOOPBACK_HOST } from '../src/cli/loopback.js';
import { withRetries } from './retry.js';

type NativeConnection = nodeDataChannel.PeerConnection;
type NativeChannel = nodeDataChannel.DataChannel;

/** What rtcmesh's backend asks of the engine, minus rtcmesh: loopback, explicit offers, 256 KiB messages. */
const RAW_CONFIG: RtcConfig = {
  iceServers: [],
  bindAddress: LOOPBACK_HOST,
  disableAutoNegotiation: true,
  maxMessageSize: 262144,
};

/** How long `close()` waits for the engine's closed callbacks. */
const CLOSE_TIMEOUT_MS = 3000;

/** A negotiated reliable, ordered channel. */
export const RELIABLE: DataChannelInitConfig = { negotiated: true, unordered: false };
/** A negotiated channel that never retransmits and does not order: what rtcmesh's unreliable channels are. */
export const UNRELIABLE: DataChannelInitConfig = { negotiated: true, unordered: true, maxRetransmits: 0 };

/** A channel of a raw link: negotiated with this SCTP id and these options. */
export interface RawChannelSpec {
  id: number;
  options: DataChannelInitConfig;
}

/** One side of a raw link. */
export interface RawEnd {
  pc: NativeConnection;
  /** The link's channels on this side, in the order of the specs. */
  channels: NativeChannel[];
}

/** Two raw connections brokered to each other; `a` offered. */
export interface RawLink {
  a: RawEnd;
  b: RawEnd;
  /** Whether both connections are connected and every channel on both sides is open. */
  isReady(): boolean;
  /** Whether a connection failed or closed before `close()`. */
  failed(): boolean;
  /** Closes every channel and both connections; resolves once the engine has said so (bounded). */
  close(): Promise<void>;
}

interface EndState {
  end: RawEnd;
  state: string;
  openChannels: number;
  hasRemoteDescription: boolean;
  earlyCandidates: Array<[candidate: string, mid: string]>;
}

/** Every raw native object not closed yet: the engine closes whatever the collector takes (docs/design.md). */
const liveLinks = new Set<RawLink>();

/**
 * Creates two connections with the channels of `specs` on each, and starts the offer. The
 * offerer's candidates wait for the answer, as rtcmesh's backend holds them: libdatachannel starts
 * ICE before it stores a remote description, and an offerer reached first would meet a DTLS
 * certificate it cannot check yet (a failed setup; libdatachannel PR 1612).
 */
export function createRawLink(specs: readonly RawChannelSpec[], label = 'raw'): RawLink {
  const sides = [newEnd(`${label}-a`), newEnd(`${label}-b`)] as const;
  const closedCallbacks: Array<Promise<void>> = [];
  const heldOffererCandidates: Array<[candidate: string, mid: string]> = [];
  let failed = false;
  let closing: Promise<void> | undefined;
  // An exception out of a native callback ends the process (C++ terminate): a failed engine call
  // (a connection that failed under it, say) marks the link failed instead.
  const guard =
    <Args extends unknown[]>(handler: (...args: Args) => void) =>
    (...args: Args): void => {
      try {
        handler(...args);
      } catch {
        failed = true;
      }
    };

  const deliverCandidate = (to: EndState, candidate: string, mid: string): void => {
    // A candidate before the remote description aborts the process: it waits until then.
    if (to.hasRemoteDescription) to.end.pc.addRemoteCandidate(candidate, mid);
    else to.earlyCandidates.push([candidate, mid]);
  };

  // The answer is applied at the offerer: its candidates go to the answerer, a loop turn later, as
  // rtcmesh's poll() hands them over. Handed over at once, the answerer's ICE comes up first and
  // its DTLS hello reaches the offerer before the offerer's DTLS transport exists, to wait for the
  // 1 s retransmit (measured here: most mesh setups of 4 and 8 peers).
  const releaseOffererCandidates = (answerer: EndState): void => {
    const held = heldOffererCandidates.splice(0);
    setImmediate(
      guard(() => {
        if (!closing) for (const [candidate, mid] of held) deliverCandidate(answerer, candidate, mid);
      }),
    );
  };

  for (const [self, other] of [
    [sides[0], sides[1]],
    [sides[1], sides[0]],
  ] as const) {
    closedCallbacks.push(
      new Promise((resolve) => {
        self.end.pc.onStateChange((state) => {
          self.state = state;
          if (state === 'failed' || (state === 'closed' && !closing)) failed = true;
          if (state === 'closed') resolve();
        });
      }),
    );
    self.end.pc.onLocalDescription(
      guard((sdp: string, type: DescriptionType) => {
        other.end.pc.setRemoteDescription(sdp, type);
        other.hasRemoteDescription = true;
        for (const [candidate, mid] of other.earlyCandidates.splice(0)) other.end.pc.addRemoteCandidate(candidate, mid);
        if (type === 'offer') other.end.pc.setLocalDescription('answer');
        else releaseOffererCandidates(self);
      }),
    );
    const isOfferer = self === sides[0];
    self.end.pc.onLocalCandidate(
      guard((candidate: string, mid: string) => {
        if (isOfferer && !self.hasRemoteDescription) heldOffererCandidates.push([candidate, mid]);
        else deliverCandidate(other, candidate, mid);
      }),
    );
    for (const spec of specs) {
      const channel = self.end.pc.createDataChannel(`${label}-${spec.id}`, { ...spec.options, id: spec.id });
      channel.onOpen(() => self.openChannels++);
      channel.onError(() => undefined);
      closedCallbacks.push(new Promise((resolve) => channel.onClosed(() => resolve())));
      self.end.channels.push(channel);
    }
  }

  const link: RawLink = {
    a: sides[0].end,
    b: sides[1].end,
    isReady: () => sides.every((side) => side.state === 'connected' && side.openChannels === specs.length),
    failed: () => failed,
    close() {
      closing ??= (async () => {
        for (const side of sides) {
          for (const channel of side.end.channels) channel.close();
          side.end.pc.close();
        }
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        });
        await Promise.race([Promise.all(closedCallbacks), timeout]);
        clearTimeout(timer);
        liveLinks.delete(link);
      })();
      return closing;
    },
  };
  liveLinks.add(link);
  sides[0].end.pc.setLocalDescription('offer');
  return link;
}

function newEnd(name: string): EndState {
  return {
    end: { pc: new nodeDataChannel.PeerConnection(name, RAW_CONFIG), channels: [] },
    state: 'new',
    openChannels: 0,
    hasRemoteDescription: false,
    earlyCandidates: [],
  };
}

/** Closes every raw link still open (a scenario that failed half-way). */
export async function closeAllRawLinks(): Promise<void> {
  await Promise.all([...liveLinks].map((link) => link.close()));
}

/** Bytes of a message as node-datachannel hands it over. */
export function messageBytes(message: string | Buffer | ArrayBuffer): number {
  return typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength;
}

/** Creates a raw link and waits until it is ready; retried on failure (see retry.ts). */
export async function connectRawLink(specs: readonly RawChannelSpec[], timeoutMs = 10_000): Promise<RawLink> {
  const [link] = await withRetries('a raw link', () => tryRawLinks(1, specs, timeoutMs));
  return link!;
}

/** Creates `count` raw links at once and waits until all are ready; retried on failure (see retry.ts). */
export function connectRawLinks(count: number, specs: readonly RawChannelSpec[], timeoutMs = 10_000): Promise<RawLink[]> {
  return withRetries(`${count} raw links`, () => tryRawLinks(count, specs, timeoutMs));
}

/** Creates `count` raw links at once and waits until all are ready; closes them and rejects on failure or timeout. */
export async function tryRawLinks(count: number, specs: readonly RawChannelSpec[], timeoutMs = 10_000): Promise<RawLink[]> {
  const links = Array.from({ length: count }, (_, n) => createRawLink(specs, `raw${n}`));
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (links.every((link) => link.isReady())) return links;
    const failure = links.some((link) => link.failed())
      ? 'a raw connection failed'
      : performance.now() > deadline
        ? `raw links not ready after ${timeoutMs} ms`
        : undefined;
    if (failure) {
      await Promise.all(links.map((link) => link.close()));
      throw new Error(failure);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
