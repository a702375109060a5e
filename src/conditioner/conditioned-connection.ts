import { isIP } from 'node:net';
import type { BackendChannel, BackendChannelInit, BackendConnection, BackendConnectionHandlers } from '../transport/backend.js';
import {
  canRelayBetween,
  type Endpoint,
  type ParsedCandidate,
  parseCandidate,
  rewriteCandidate,
  sdpCandidates,
  stripSdpCandidates,
} from './candidates.js';
import type { LinkCounters } from './link-conditions.js';
import type { LinkRelay } from './link-relay.js';

/** Remote candidates held until the local candidate's relay is bound; more are withheld. */
const MAX_HELD_REMOTE_CANDIDATES = 64;

/** What a conditioned connection needs from its conditioner. */
export interface RelaySource {
  /** A new relay with its stand-in sockets on `address`, sharing the conditioner's state. */
  openRelay(address: string): Promise<LinkRelay>;
  /** Closes a relay whose connection has closed. */
  closeRelay(relay: LinkRelay): void;
  /** Counters of local → remote (outgoing) and remote → local (incoming). */
  counters(direction: 'outgoing' | 'incoming'): LinkCounters;
}

/**
 * One engine connection whose only path to its remote is a {@link LinkRelay}: its first UDP host
 * candidate is announced to the remote as the relay's stand-in for it, the remote's candidates
 * are given to the engine as the relay's stand-in for the remote, and candidate lines are kept
 * out of the descriptions. Every other candidate is withheld, so nothing goes around the relay.
 */
export class ConditionedConnection implements BackendConnection {
  private readonly inner: BackendConnection;
  private relay: LinkRelay | undefined;
  private local: Endpoint | undefined;
  private relayRequested = false;
  private remoteGiven = false;
  private readonly heldRemote: Array<[mid: string, candidate: string]> = [];
  private localDescription: { stripped: string; original: string } | undefined;
  private closed = false;

  constructor(
    createInner: (handlers: BackendConnectionHandlers) => BackendConnection,
    handlers: BackendConnectionHandlers,
    private readonly source: RelaySource,
  ) {
    this.inner = createInner({
      ...handlers,
      localDescription: (type, sdp) => {
        const stripped = stripSdpCandidates(sdp);
        this.localDescription = { stripped, original: sdp };
        handlers.localDescription(type, stripped);
      },
      localCandidate: (mid, candidate) => this.onLocalCandidate(mid, candidate, handlers),
    });
  }

  createOffer(): void {
    this.inner.createOffer();
  }

  setLocalDescription(type: 'offer' | 'answer', sdp: string): void {
    const original = this.localDescription?.stripped === sdp ? this.localDescription.original : sdp;
    this.inner.setLocalDescription(type, original);
  }

  setRemoteDescription(type: 'offer' | 'answer', sdp: string): void {
    this.inner.setRemoteDescription(type, stripSdpCandidates(sdp));
    for (const { mid, candidate } of sdpCandidates(sdp)) this.addRemoteCandidate(mid, candidate);
  }

  addRemoteCandidate(mid: string, candidate: string): void {
    if (this.relay) this.useRemoteCandidate(this.relay, mid, candidate);
    else if (this.heldRemote.length < MAX_HELD_REMOTE_CANDIDATES) this.heldRemote.push([mid, candidate]);
    else this.source.counters('incoming').candidatesWithheld++;
  }

  createDataChannel(label: string, init: BackendChannelInit): BackendChannel {
    return this.inner.createDataChannel(label, init);
  }

  poll(): void {
    this.inner.poll?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heldRemote.length = 0;
    try {
      this.inner.close();
    } finally {
      if (this.relay) this.source.closeRelay(this.relay);
      this.relay = undefined;
    }
  }

  private onLocalCandidate(mid: string, candidate: string, handlers: BackendConnectionHandlers): void {
    const parsed = parseCandidate(candidate);
    if (this.closed || this.relayRequested || !parsed || parsed.transport !== 'udp' || parsed.type !== 'host' || isIP(parsed.address) === 0) {
      if (!this.closed) this.source.counters('outgoing').candidatesWithheld++;
      return;
    }
    this.relayRequested = true;
    this.source.openRelay(parsed.address).then(
      (relay) => {
        if (this.closed) {
          this.source.closeRelay(relay);
          return;
        }
        this.relay = relay;
        this.local = parsed;
        relay.registerPeer('a', parsed);
        handlers.localCandidate(mid, rewriteCandidate(candidate, relay.endpointFor('a')));
        for (const [heldMid, held] of this.heldRemote.splice(0)) this.useRemoteCandidate(relay, heldMid, held);
      },
      // No relay, no path: the connection fails as it would on a dead link, and the reason is counted.
      () => this.source.counters('outgoing').candidatesWithheld++,
    );
  }

  private useRemoteCandidate(relay: LinkRelay, mid: string, candidate: string): void {
    const parsed = parseCandidate(candidate);
    if (!this.isRelayable(parsed)) {
      this.source.counters('incoming').candidatesWithheld++;
      return;
    }
    relay.registerPeer('b', parsed);
    if (this.remoteGiven) return;
    this.remoteGiven = true;
    try {
      this.inner.addRemoteCandidate(mid, rewriteCandidate(candidate, relay.endpointFor('b')));
    } catch {
      // The engine refused a candidate the remote sent: the connection fails, as without the relay.
      this.source.counters('incoming').candidatesWithheld++;
    }
  }

  private isRelayable(parsed: ParsedCandidate | undefined): parsed is ParsedCandidate {
    return (
      parsed !== undefined &&
      this.local !== undefined &&
      parsed.transport === 'udp' &&
      parsed.type !== 'relay' &&
      canRelayBetween(this.local.address, parsed.address)
    );
  }
}
