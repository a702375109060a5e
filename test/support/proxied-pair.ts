import { PeerConnection, type DataChannel, type DescriptionType, type RtcConfig } from 'node-datachannel';
import {
  LOOPBACK,
  LossyProxy,
  parseCandidate,
  rewriteCandidate,
  type LossyProxyOptions,
  type ParsedCandidate,
  type Side,
} from './lossy-proxy.js';

/** Default bound on connecting; DESIGN.md's 1 s DTLS-retransmit setups fit well inside it. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** How long close() waits for the engine's closed callbacks before closing the proxy anyway. */
const CLOSE_TIMEOUT_MS = 3_000;

/** SDP lines that would give the remote a direct path (or declare trickling over) behind the proxy's back. */
const SDP_CANDIDATE_LINE = /^a=(candidate|end-of-candidates)/;

const PEER_CONFIG: RtcConfig = {
  iceServers: [],
  bindAddress: LOOPBACK,
  disableAutoNegotiation: true,
};

/** Options of {@link createProxiedPair}. */
export interface ProxiedPairOptions<Channels extends Record<string, DataChannel>> {
  /**
   * Creates the channels on both connections before negotiation (at least one, or there is
   * nothing to offer) and returns every one of them. The pair owns their `onOpen` and `onClosed`
   * callbacks; set `onMessage` and the rest here or later.
   */
  setup: (a: PeerConnection, b: PeerConnection) => Channels;
  /** Options of the proxy between the two; conditions may also be changed once connected. */
  proxy?: LossyProxyOptions;
  /** Rejects (after closing everything) when not connected by then. Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * Two connected node-datachannel peers whose every datagram crosses a {@link LossyProxy}. Hold it
 * until close(): it is what keeps the connections and channels from being garbage-collected.
 */
export interface ProxiedPair<Channels extends Record<string, DataChannel>> {
  /** The offering side. */
  a: PeerConnection;
  /** The answering side. */
  b: PeerConnection;
  /** What `setup` returned, all open; held here so that the engine does not close them on GC. */
  channels: Channels;
  proxy: LossyProxy;
  /** Closes every channel, both connections and the proxy; waits (bounded) for the engine's callbacks. */
  close(): Promise<void>;
}

/** Drops candidate lines from an SDP: the only route between the peers must be the proxy. */
export function stripSdpCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !SDP_CANDIDATE_LINE.test(line))
    .join('\r\n');
}

function isLoopbackUdpHost(candidate: ParsedCandidate | undefined): candidate is ParsedCandidate {
  return candidate?.transport === 'udp' && candidate.type === 'host' && candidate.address === LOOPBACK;
}

interface End {
  pc: PeerConnection;
  state: string;
  hasRemoteDescription: boolean;
  /** Candidates from the other side, held until this side has a remote description (else the engine aborts). */
  earlyCandidates: Array<[candidate: string, mid: string]>;
  /** Whether this side's address is registered with the proxy; later candidates are ignored. */
  relayed: boolean;
}

function newEnd(side: Side): End {
  return {
    pc: new PeerConnection(side, PEER_CONFIG),
    state: 'new',
    hasRemoteDescription: false,
    earlyCandidates: [],
    relayed: false,
  };
}

function otherSide(side: Side): Side {
  return side === 'a' ? 'b' : 'a';
}

function waitBounded(promises: Array<Promise<void>>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  return Promise.race([Promise.all(promises).then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds two raw node-datachannel connections, A offering and B answering, connected through a
 * new {@link LossyProxy}: each side's first UDP host candidate on 127.0.0.1 is registered with the
 * proxy and handed to the other rewritten to the proxy's port, and candidate lines are stripped
 * from the SDP. Resolves once both are connected and every channel is open; rejects on failure
 * or timeout, having closed everything.
 */
export async function createProxiedPair<Channels extends Record<string, DataChannel>>(
  options: ProxiedPairOptions<Channels>,
): Promise<ProxiedPair<Channels>> {
  const proxy = await LossyProxy.create(options.proxy);
  const ends: Record<Side, End> = {
    a: newEnd('a'),
    b: newEnd('b'),
  };
  const closedCallbacks: Array<Promise<void>> = [];
  let channels: Channels | undefined;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const channel of Object.values(channels ?? {})) channel.close();
      ends.a.pc.close();
      ends.b.pc.close();
      await waitBounded(closedCallbacks, CLOSE_TIMEOUT_MS);
      await proxy.close();
    })();
    return closing;
  };

  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // close() after a failed setup ends in a 'closed' state that rejects nobody is awaiting yet.
  void connected.catch(() => undefined);
  const fail = (error: unknown): void => settle?.reject(error instanceof Error ? error : new Error(String(error)));
  // An exception escaping a native callback would take the whole test process down.
  const guard =
    <Args extends unknown[]>(handler: (...args: Args) => void) =>
    (...args: Args): void => {
      try {
        handler(...args);
      } catch (error) {
        fail(error);
      }
    };
  const checkConnected = (): void => {
    const channelsOpen = Object.values(channels ?? {}).every((channel) => channel.isOpen());
    if (ends.a.state === 'connected' && ends.b.state === 'connected' && channelsOpen) settle?.resolve();
  };

  const deliverCandidate = (to: Side, candidate: string, mid: string): void => {
    const end = ends[to];
    if (end.hasRemoteDescription) end.pc.addRemoteCandidate(candidate, mid);
    else end.earlyCandidates.push([candidate, mid]);
  };

  for (const side of ['a', 'b'] as const) {
    const end = ends[side];
    const remote = ends[otherSide(side)];
    closedCallbacks.push(
      new Promise((resolve) => {
        end.pc.onStateChange(
          guard((state: string) => {
            end.state = state;
            if (state === 'closed') resolve();
            if (state === 'failed' || state === 'closed') fail(new Error(`peer ${side} ${state} before connecting`));
            checkConnected();
          }),
        );
      }),
    );
    end.pc.onLocalDescription(
      guard((sdp: string, type: DescriptionType) => {
        remote.pc.setRemoteDescription(stripSdpCandidates(sdp), type);
        remote.hasRemoteDescription = true;
        for (const [candidate, mid] of remote.earlyCandidates.splice(0)) remote.pc.addRemoteCandidate(candidate, mid);
        if (type === 'offer') remote.pc.setLocalDescription('answer');
      }),
    );
    end.pc.onLocalCandidate(
      guard((candidate: string, mid: string) => {
        const parsed = parseCandidate(candidate);
        if (end.relayed || !isLoopbackUdpHost(parsed)) return;
        end.relayed = true;
        proxy.registerPeer(side, parsed);
        deliverCandidate(otherSide(side), rewriteCandidate(candidate, proxy.portFor(side)), mid);
      }),
    );
  }

  let timer: NodeJS.Timeout | undefined;
  try {
    channels = options.setup(ends.a.pc, ends.b.pc);
    const created = Object.values(channels);
    if (created.length === 0) throw new Error('setup must create at least one channel');
    for (const channel of created) {
      channel.onOpen(guard(checkConnected));
      closedCallbacks.push(new Promise((resolve) => channel.onClosed(resolve)));
    }
    ends.a.pc.setLocalDescription('offer');
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    timer = setTimeout(() => fail(new Error(`proxied pair not connected after ${timeoutMs} ms`)), timeoutMs);
    await connected;
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { a: ends.a.pc, b: ends.b.pc, channels, proxy, close };
}
