// `rtcmesh demo-peer`: one peer of the demo, in a process of its own, written as a game would be:
// one poll() a tick, then read, then send. It tells the demo command how it went on stdout, one
// JSON line per step (demo-report.ts).
import {
  CONDITION_FLAGS,
  DROP_REASONS,
  type DropReason,
  HOST_PEER_ID,
  NetworkConditioner,
  PeerConnection,
  SignalingClient,
  TransferMode,
  WebRTCMultiplayerPeer,
  cleanup,
} from '../index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EXIT_FAILURE,
  type Output,
  choiceOption,
  integerOption,
  optionalOptions,
  parseOptions,
  positiveNumberOption,
} from './command-line.js';
import { readLinkOptions } from './condition-options.js';
import { DemoPacketKind, decodeDemoPacket, encodeDemoPacket } from './demo-packets.js';
import { type ChannelCounts, type ChannelName, type LinkReport, type PeerReport, encodePeerMessage, summarizeRtt } from './demo-report.js';
import { LOOPBACK_HOST } from './loopback.js';

/** The demo's topologies: a full mesh, or a star around the host (Godot's server mode). */
export const DEMO_MODES = ['mesh', 'server'] as const;
/** Ticks per second of every demo peer, a game's frame rate. */
export const DEMO_TICK_HZ = 60;
/** Fewest peers a demo has: a match needs two. */
export const MIN_DEMO_PEERS = 2;
/** Most peers a demo has: a full mesh of n processes holds n(n-1)/2 connections, 120 at 16. */
export const MAX_DEMO_PEERS = 16;
/** Longest traffic of a demo, in seconds. */
export const MAX_DEMO_SECONDS = 600;
/** Longest cut of a peer's link (`--cut-seconds`), in seconds. */
export const MAX_CUT_SECONDS = 60;
/** Ticks of traffic before a cut begins: the match is under way when the link goes. */
export const CUT_START_TICKS = DEMO_TICK_HZ;

type DemoMode = (typeof DEMO_MODES)[number];

const TICK_MS = 1000 / DEMO_TICK_HZ;
// Reliable events each peer sends a tick: a busy game's shots, hits and pickups.
const EVENTS_PER_TICK = 3;
// The demo avatar circles once every this many ticks, so that its state changes every tick.
const ORBIT_TICKS = 240;

const CHANNEL_OF_MODE: Record<TransferMode, ChannelName> = {
  [TransferMode.Reliable]: 'reliable',
  [TransferMode.UnreliableOrdered]: 'ordered',
  [TransferMode.Unreliable]: 'unreliable',
};

// connecting: until every connection is up; traffic: for --seconds; finishing: Done sent, until
// Done from everyone, when the counters are final; closing: Bye sent, until Bye from everyone,
// so that no peer closes while another still waits for its packets.
type Phase = 'connecting' | 'traffic' | 'finishing' | 'closing';

/**
 * Runs `rtcmesh demo-peer --url u [--lobby l] --peers n --seconds s --mode m [--loss …]`: with
 * condition flags, every connection of this process goes through a NetworkConditioner that
 * applies them to what this peer sends (each peer conditions its own sending, so each direction
 * of a link is conditioned once). Then it joins the lobby
 * (creates one when `--lobby` is empty) and prints its id and the lobby's name, waits until
 * connected to every peer its topology gives it, sends traffic for `--seconds`, trades Done and
 * then Bye with every peer, prints its report, closes everything and resolves with 0. On a
 * failure it prints the reason as a `failed` line and resolves with 1. It stops when its stdin
 * ends: the demo command has gone.
 * @throws UsageError for a bad option.
 */
export async function runDemoPeer(args: string[], output: Output): Promise<number> {
  const values = parseOptions(args, {
    url: undefined,
    lobby: '',
    peers: undefined,
    seconds: undefined,
    mode: DEMO_MODES[0],
    'cut-seconds': '',
    'reconnect-grace-ms': '0',
    ...optionalOptions(CONDITION_FLAGS),
  });
  const cutSeconds = values['cut-seconds'] === '' ? 0 : positiveNumberOption('cut-seconds', values['cut-seconds'], MAX_CUT_SECONDS);
  const conditioner = conditionerOf(values, cutSeconds > 0);
  const settings: DemoPeerSettings = {
    url: values.url,
    lobby: values.lobby,
    peerCount: integerOption('peers', values.peers, MIN_DEMO_PEERS, MAX_DEMO_PEERS),
    seconds: positiveNumberOption('seconds', values.seconds, MAX_DEMO_SECONDS),
    mode: choiceOption('mode', values.mode, DEMO_MODES),
    cutSeconds,
    reconnectGraceMs: integerOption('reconnect-grace-ms', values['reconnect-grace-ms'], 0, 2 ** 31 - 1),
  };
  let peer: DemoPeer | undefined;
  const onParentGone = (): void => peer?.abort('the demo command went away (its end of stdin closed)');
  try {
    peer = new DemoPeer(settings, (line) => output.log(line), conditioner);
    process.stdin.on('end', onParentGone).resume();
    const report = await peer.run();
    output.log(encodePeerMessage({ event: 'result', report }));
    return 0;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    output.log(encodePeerMessage({ event: 'failed', reason }));
    return EXIT_FAILURE;
  } finally {
    peer?.close();
    await conditioner?.close();
    cleanup();
    process.stdin.off('end', onParentGone).destroy();
  }
}

/**
 * With condition flags, or a cut to make, a conditioner of what this peer sends, made the default
 * backend of this process so that the signaling client's connections are made on it; undefined
 * without them.
 * @throws UsageError for a bad flag.
 */
function conditionerOf(values: Partial<Record<(typeof CONDITION_FLAGS)[number], string>>, cut: boolean): NetworkConditioner | undefined {
  const link = readLinkOptions(values);
  if (!link && !cut) return undefined;
  const conditioner = new NetworkConditioner({ outgoing: link?.conditions ?? {}, ...(link?.seed === undefined ? {} : { seed: link.seed }) });
  PeerConnection.setDefaultBackend(conditioner.backend);
  return conditioner;
}

interface DemoPeerSettings {
  url: string;
  /** '' creates a lobby. */
  lobby: string;
  peerCount: number;
  seconds: number;
  mode: DemoMode;
  /** Seconds this peer cuts its own link for, {@link CUT_START_TICKS} into the traffic; 0 for none. */
  cutSeconds: number;
  /** The multiplayer peer's `reconnectGraceMs`: above 0 when the demo resumes sessions. */
  reconnectGraceMs: number;
}

class DemoPeer {
  private readonly multiplayerPeer: WebRTCMultiplayerPeer;
  private readonly client: SignalingClient;
  private startedAt = 0;
  private phase: Phase = 'connecting';
  private tick = 0;
  private trafficEndTick = 0;
  private joinMs = 0;
  private meshMs = 0;
  private failure: string | null = null;
  private readonly connected = new Set<number>();
  // Every peer signaling has added, so that one dropped before it connected is noticed: the
  // multiplayer peer drops such a peer without an event (it never connected).
  private readonly introduced = new Set<number>();
  private readonly doneFrom = new Set<number>();
  private readonly byeFrom = new Set<number>();
  private finalReport: PeerReport | null = null;
  private readonly rttSamples: number[] = [];
  private readonly nextEventFrom = new Map<number, number>();
  private eventsSent = 0;
  private trafficStartTick = 0;
  private reconnects = 0;
  /** When this peer ended its cut, while it waits for every peer to resume. */
  private restoredAt: number | undefined;
  private resumeMs: number | null = null;

  constructor(
    private readonly settings: DemoPeerSettings,
    private readonly print: (line: string) => void,
    private readonly conditioner: NetworkConditioner | undefined,
  ) {
    this.multiplayerPeer = new WebRTCMultiplayerPeer({ reconnectGraceMs: settings.reconnectGraceMs });
    this.client = new SignalingClient({
      url: settings.url,
      lobby: settings.lobby,
      mesh: settings.mode === 'mesh',
      peerConfig: { bindAddress: LOOPBACK_HOST },
      multiplayerPeer: this.multiplayerPeer,
    });
    this.client.on('lobbyJoined', (lobby) => {
      this.joinMs = this.elapsedMs();
      this.print(encodePeerMessage({ event: 'joined', id: this.client.getUniqueId(), lobby }));
    });
    this.client.on('disconnected', (code, reason) => {
      // Once connected the mesh no longer needs signaling: the host's departure closes the
      // lobby under the others, and that is the end of the match, not a fault.
      if (this.phase === 'connecting') {
        this.abort(`signaling closed (${code} ${reason}) with ${this.connected.size} of ${this.expectedPeers()} peers connected`);
      }
    });
    this.multiplayerPeer.on('peerConnected', (id) => this.connected.add(id));
    this.multiplayerPeer.on('peerReconnected', () => {
      this.reconnects++;
      const waiting = [...this.connected].some((id) => this.multiplayerPeer.isPeerReconnecting(id));
      if (this.restoredAt !== undefined && !waiting) {
        this.resumeMs = this.elapsedMs() - this.restoredAt;
        this.restoredAt = undefined;
      }
    });
    this.multiplayerPeer.on('peerDisconnected', (id) => {
      this.connected.delete(id);
      // A peer closes once it has heard Bye from everyone, possibly before its own Bye is read
      // here (a departure and the packets before it can arrive in one poll): that is its Bye.
      if (this.phase !== 'closing') this.abort(`peer ${id} disconnected during the ${this.phase} phase`);
    });
  }

  /** Stops the run at the next tick with `reason`. */
  abort(reason: string): void {
    this.failure ??= reason;
  }

  /** Runs every tick until the peer has finished; rejects with the reason of a failure. */
  async run(): Promise<PeerReport> {
    this.startedAt = performance.now();
    this.client.connect();
    for (;;) {
      this.multiplayerPeer.poll();
      if (this.failure !== null) throw new Error(this.failure);
      this.receive();
      const finished = this.step();
      // Flushed now rather than at the next poll(), so that a ping leaves the tick it is stamped.
      this.multiplayerPeer.flush();
      if (finished) return this.finalReport!;
      this.tick++;
      // Ticks are scheduled from the first one, so that a late tick does not delay the rest.
      await sleep(Math.max(0, this.startedAt + this.tick * TICK_MS - performance.now()));
    }
  }

  /** Closes signaling and every connection; emits nothing further. */
  close(): void {
    this.client.close();
    this.multiplayerPeer.close();
  }

  /** Sends this tick's packets, moving to the next phase when this one is over; true once all are. */
  private step(): boolean {
    switch (this.phase) {
      case 'connecting':
        this.checkSetups();
        if (this.connected.size < this.expectedPeers()) return false;
        this.meshMs = this.elapsedMs();
        this.print(encodePeerMessage({ event: 'meshed' }));
        // The host is connected to everyone, so everyone has joined: sealing keeps strangers out
        // and lets the links outlive signaling, as a match does once it starts.
        if (this.multiplayerPeer.getUniqueId() === HOST_PEER_ID) this.client.seal();
        this.phase = 'traffic';
        this.trafficStartTick = this.tick;
        this.trafficEndTick = this.tick + Math.round(this.settings.seconds * DEMO_TICK_HZ);
        return this.step();
      case 'traffic':
        if (this.tick < this.trafficEndTick) {
          this.cutOwnLink();
          this.sendTraffic();
          return false;
        }
        this.send(TransferMode.Reliable, 0, encodeDemoPacket({ kind: DemoPacketKind.Done }));
        this.phase = 'finishing';
        return this.step();
      case 'finishing':
        if (![...this.connected].every((id) => this.doneFrom.has(id))) return false;
        // Every peer's traffic is in and all of ours is out: the counters are final.
        this.finalReport = this.report();
        this.send(TransferMode.Reliable, 0, encodeDemoPacket({ kind: DemoPacketKind.Bye }));
        this.phase = 'closing';
        return this.step();
      case 'closing':
        return [...this.connected].every((id) => this.byeFrom.has(id));
    }
  }

  /** With `cutSeconds`: cuts this peer's every datagram {@link CUT_START_TICKS} into the traffic, and restores them after. */
  private cutOwnLink(): void {
    const { cutSeconds } = this.settings;
    if (cutSeconds === 0 || !this.conditioner) return;
    const cutTick = this.trafficStartTick + CUT_START_TICKS;
    if (this.tick === cutTick) this.conditioner.cut();
    if (this.tick === cutTick + Math.round(cutSeconds * DEMO_TICK_HZ)) {
      this.conditioner.restore();
      this.restoredAt = this.elapsedMs();
    }
  }

  /** Fails the run as soon as a connection dies before it opens, rather than at the timeout. */
  private checkSetups(): void {
    for (const id of this.multiplayerPeer.getPeers().keys()) this.introduced.add(id);
    for (const id of this.introduced) {
      if (!this.connected.has(id) && !this.multiplayerPeer.hasPeer(id)) {
        this.abort(`the connection to peer ${id} failed before it opened`);
      }
    }
  }

  /** One tick of a game's traffic, to every connected peer. */
  private sendTraffic(): void {
    const angle = (2 * Math.PI * this.tick) / ORBIT_TICKS;
    const state = { kind: DemoPacketKind.State, tick: this.tick, x: Math.cos(angle), y: Math.sin(angle) } as const;
    this.send(TransferMode.Unreliable, 0, encodeDemoPacket(state));
    for (let event = 0; event < EVENTS_PER_TICK; event++) {
      this.send(TransferMode.Reliable, 0, encodeDemoPacket({ kind: DemoPacketKind.Event, sequence: this.eventsSent++ }));
    }
    // On the ordered channel: unreliable like a game's ping, and never delivered out of order.
    this.send(TransferMode.UnreliableOrdered, 0, encodeDemoPacket({ kind: DemoPacketKind.Ping, sentAtMs: performance.now() }));
  }

  /** Reads every packet this tick's poll delivered. */
  private receive(): void {
    while (this.multiplayerPeer.getAvailablePacketCount() > 0) {
      const from = this.multiplayerPeer.getPacketPeer();
      const packet = decodeDemoPacket(this.multiplayerPeer.getPacket()!);
      // Not a demo packet: the demo counts traffic, and a game would ignore what it cannot read.
      if (packet === null) continue;
      switch (packet.kind) {
        case DemoPacketKind.Event: {
          const expected = this.nextEventFrom.get(from) ?? 0;
          if (packet.sequence !== expected) {
            this.abort(`reliable event ${expected} from peer ${from} arrived as ${packet.sequence}`);
          }
          this.nextEventFrom.set(from, packet.sequence + 1);
          break;
        }
        case DemoPacketKind.Ping:
          this.send(TransferMode.UnreliableOrdered, from, encodeDemoPacket({ kind: DemoPacketKind.Pong, sentAtMs: packet.sentAtMs }));
          break;
        case DemoPacketKind.Pong: {
          // The clock is this process's own: a pong that claims a future send was not ours.
          const roundTripMs = performance.now() - packet.sentAtMs;
          if (roundTripMs >= 0) this.rttSamples.push(roundTripMs);
          break;
        }
        case DemoPacketKind.Done:
          this.doneFrom.add(from);
          break;
        case DemoPacketKind.Bye:
          this.byeFrom.add(from);
          break;
        case DemoPacketKind.State:
          // A game would move the sender's avatar; the demo measures the traffic only.
          break;
      }
    }
  }

  private send(mode: TransferMode, target: number, packet: Uint8Array): void {
    this.multiplayerPeer.transferMode = mode;
    this.multiplayerPeer.setTargetPeer(target);
    this.multiplayerPeer.putPacket(packet);
  }

  /** Peers the topology connects this one to: all the others in a mesh, the host in server mode. */
  private expectedPeers(): number {
    const { mode, peerCount } = this.settings;
    const isHost = this.multiplayerPeer.getUniqueId() === HOST_PEER_ID;
    return mode === 'mesh' || isHost ? peerCount - 1 : 1;
  }

  private elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  private report(): PeerReport {
    const channels: Record<ChannelName, ChannelCounts> = {
      reliable: { sent: 0, received: 0, dropped: 0 },
      ordered: { sent: 0, received: 0, dropped: 0 },
      unreliable: { sent: 0, received: 0, dropped: 0 },
    };
    const dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
    for (const id of this.connected) {
      const stats = this.multiplayerPeer.getPeerStats(id);
      for (const reason of DROP_REASONS) dropped[reason] += stats.dropped[reason];
      for (const channel of stats.channels) {
        if (channel.transferChannel !== 0) continue;
        const counts = channels[CHANNEL_OF_MODE[channel.mode]];
        counts.sent += channel.packetsSent;
        counts.received += channel.packetsReceived;
        counts.dropped += channel.packetsDropped;
      }
    }
    // A peer that heard every Done before this one did has sent its Bye, and the stats count it as
    // it arrived; it is not traffic, and this side's own Bye is not sent yet.
    channels.reliable.received -= this.byeFrom.size;
    return {
      id: this.multiplayerPeer.getUniqueId(),
      joinMs: this.joinMs,
      meshMs: this.meshMs,
      ...summarizeRtt(this.rttSamples),
      channels,
      dropped,
      link: this.linkReport(),
      reconnects: this.reconnects,
      resumeMs: this.resumeMs,
    };
  }

  private linkReport(): LinkReport | null {
    if (!this.conditioner) return null;
    const counters = this.conditioner.getCounters('outgoing');
    return {
      sent: counters.received,
      lost: counters.dropped,
      overBandwidth: counters.droppedByBandwidth,
      duplicated: counters.duplicated,
      reordered: counters.reordered,
    };
  }
}
