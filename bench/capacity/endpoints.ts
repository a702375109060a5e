/**
 * The two ends of the server-capacity scenario, raw and rtcmesh, doing the same traffic: each
 * client sends the server a small reliable input per tick, the server sends each client a 1 KB
 * unreliable state per tick, stamped with the shared clock so that a client can tell its age.
 */
import nodeDataChannel from 'node-datachannel';
import { PeerConnection, TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';
// Anchored at the Unix epoch: every process of the machine reads the same clock.
import { clockMs } from '../../src/mesh/clock.js';
import type { Signal } from './protocol.js';

type NativeConnection = nodeDataChannel.PeerConnection;
type NativeChannel = nodeDataChannel.DataChannel;

const SERVER_ID = 1;
/** How long a raw connection's close waits for the engine's closed callbacks. */
const CLOSE_TIMEOUT_MS = 3000;
const INPUT_CHANNEL = { id: 1, negotiated: true, unordered: false } as const;
const STATE_CHANNEL = { id: 2, negotiated: true, unordered: true, maxRetransmits: 0 } as const;

export type SendSignal = (client: number, signal: Signal) => void;

/** What a tick of the server did. */
export interface ServerTick {
  statesSent: number;
  inputsReceived: number;
}

export interface ServerEnd {
  signal(client: number, signal: Signal): void;
  connected(): number;
  tick(state: Uint8Array): ServerTick;
  close(): Promise<void>;
}

/** What a tick of a client process saw, for every client in it. */
export interface ClientsEnd {
  signal(client: number, signal: Signal): void;
  connected(): number;
  /** Reads what arrived, puts each client's input; pushes each client's newest state age into `ages`. */
  tick(input: Uint8Array, ages: number[] | undefined): { statesReceived: number; inputsSent: number };
  close(): Promise<void>;
}

function stampOf(state: Uint8Array): number {
  return new DataView(state.buffer, state.byteOffset, state.byteLength).getFloat64(0);
}

/** Stamps a state with the shared clock, now. */
export function stamp(state: Uint8Array): void {
  new DataView(state.buffer, state.byteOffset, state.byteLength).setFloat64(0, clockMs());
}

/**
 * A raw connection with the input and state channels. The offerer's candidates wait for the answer
 * and candidates that come before the remote description wait for it, as rtcmesh's backend does.
 */
class RawPeer {
  readonly pc: NativeConnection;
  readonly input: NativeChannel;
  readonly state: NativeChannel;
  open = 0;
  connected = false;
  private released: boolean;
  private hasRemote = false;
  private readonly heldLocal: Signal[] = [];
  private readonly heldRemote: Array<[string, string]> = [];
  private readonly closed: Array<Promise<void>> = [];

  constructor(
    private readonly send: (signal: Signal) => void,
    offerer: boolean,
  ) {
    this.released = !offerer;
    this.pc = new nodeDataChannel.PeerConnection('capacity', { iceServers: [], bindAddress: LOOPBACK_HOST, disableAutoNegotiation: true, maxMessageSize: 262144 });
    this.pc.onLocalDescription((sdp, type) => {
      if (type !== 'offer' && type !== 'answer') return;
      this.send({ kind: 'description', type, sdp });
      if (type === 'answer') this.release();
    });
    this.pc.onLocalCandidate((candidate, mid) => {
      const signal: Signal = { kind: 'candidate', candidate, mid };
      if (this.released) this.send(signal);
      else this.heldLocal.push(signal);
    });
    this.closed.push(new Promise((resolve) => this.pc.onStateChange((state) => {
      if (state === 'connected') this.connected = true;
      if (state === 'closed') resolve();
    })));
    this.input = this.channel('input', INPUT_CHANNEL);
    this.state = this.channel('state', STATE_CHANNEL);
    if (offerer) this.pc.setLocalDescription('offer');
  }

  get ready(): boolean {
    return this.connected && this.open === 2;
  }

  signal(signal: Signal): void {
    if (signal.kind === 'candidate') {
      if (this.hasRemote) this.pc.addRemoteCandidate(signal.candidate, signal.mid);
      else this.heldRemote.push([signal.candidate, signal.mid]);
      return;
    }
    this.pc.setRemoteDescription(signal.sdp, signal.type);
    this.hasRemote = true;
    for (const [candidate, mid] of this.heldRemote.splice(0)) this.pc.addRemoteCandidate(candidate, mid);
    if (signal.type === 'answer') this.release();
    else this.pc.setLocalDescription('answer');
  }

  async close(): Promise<void> {
    this.input.close();
    this.state.close();
    this.pc.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.closed), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  private channel(label: string, options: nodeDataChannel.DataChannelInitConfig & { id: number }): NativeChannel {
    const channel = this.pc.createDataChannel(label, options);
    channel.onOpen(() => this.open++);
    channel.onError(() => undefined);
    this.closed.push(new Promise((resolve) => channel.onClosed(() => resolve())));
    return channel;
  }

  private release(): void {
    this.released = true;
    for (const signal of this.heldLocal.splice(0)) this.send(signal);
  }
}

/**
 * Sends one message; false when the engine throws, as it does for a connection that has failed
 * (seen once at 384 clients, after the window): a server carries on with its other clients.
 */
function trySend(channel: NativeChannel, message: Uint8Array): boolean {
  try {
    channel.sendMessageBinary(message);
    return true;
  } catch {
    return false;
  }
}

export function rawServer(send: SendSignal): ServerEnd {
  const peers = new Map<number, RawPeer>();
  let inputs = 0;
  return {
    signal(client, signal) {
      let peer = peers.get(client);
      if (!peer) {
        peer = new RawPeer((out) => send(client, out), false);
        peer.input.onMessage(() => inputs++);
        peers.set(client, peer);
      }
      peer.signal(signal);
    },
    connected: () => [...peers.values()].filter((peer) => peer.ready).length,
    tick(state) {
      stamp(state);
      let statesSent = 0;
      for (const peer of peers.values()) {
        if (trySend(peer.state, state)) statesSent++;
      }
      const inputsReceived = inputs;
      inputs = 0;
      return { statesSent, inputsReceived };
    },
    async close() {
      await Promise.all([...peers.values()].map((peer) => peer.close()));
    },
  };
}

export function rawClients(clients: readonly number[], send: SendSignal): ClientsEnd {
  const ends = clients.map((id) => {
    const end = { peer: new RawPeer((out) => send(id, out), true), newest: Number.NaN, received: 0 };
    end.peer.state.onMessage((message) => {
      const bytes = message as Buffer;
      end.newest = Math.max(Number.isNaN(end.newest) ? 0 : end.newest, stampOf(bytes));
      end.received++;
    });
    return end;
  });
  const byId = new Map(clients.map((id, n) => [id, ends[n]!]));
  return {
    signal: (client, signal) => byId.get(client)!.peer.signal(signal),
    connected: () => ends.filter((end) => end.peer.ready).length,
    tick(input, ages) {
      const time = clockMs();
      let statesReceived = 0;
      let inputsSent = 0;
      for (const end of ends) {
        if (ages && !Number.isNaN(end.newest)) ages.push(time - end.newest);
        statesReceived += end.received;
        end.received = 0;
        if (trySend(end.peer.input, input)) inputsSent++;
      }
      return { statesReceived, inputsSent };
    },
    async close() {
      await Promise.all(ends.map((end) => end.peer.close()));
    },
  };
}

/** Relays a PeerConnection's descriptions and candidates out as signals. */
function wire(connection: PeerConnection, send: (signal: Signal) => void): void {
  connection.on('sessionDescriptionCreated', (type, sdp) => {
    connection.setLocalDescription(type, sdp);
    send({ kind: 'description', type, sdp });
  });
  connection.on('iceCandidateCreated', (media, _index, name) => send({ kind: 'candidate', candidate: name, mid: media }));
}

function applySignal(connection: PeerConnection, signal: Signal): void {
  if (signal.kind === 'description') connection.setRemoteDescription(signal.type, signal.sdp);
  else connection.addIceCandidate(signal.mid, 0, signal.candidate);
}

export function rtcmeshServer(send: SendSignal): ServerEnd {
  const server = new WebRTCMultiplayerPeer();
  server.createServer();
  const connected = new Set<number>();
  server.on('peerConnected', (id) => connected.add(id));
  server.on('peerDisconnected', (id) => connected.delete(id));
  const connections = new Map<number, PeerConnection>();
  return {
    signal(client, signal) {
      let connection = connections.get(client);
      if (!connection) {
        connection = new PeerConnection();
        connection.initialize({ bindAddress: LOOPBACK_HOST });
        wire(connection, (out) => send(client, out));
        server.addPeer(connection, client);
        connections.set(client, connection);
      }
      applySignal(connection, signal);
    },
    connected() {
      server.poll();
      return connected.size;
    },
    tick(state) {
      server.poll();
      let inputsReceived = 0;
      while (server.getPacket() !== null) inputsReceived++;
      stamp(state);
      server.transferMode = TransferMode.Unreliable;
      let statesSent = 0;
      for (const id of connected) {
        server.setTargetPeer(id);
        if (server.putPacket(state)) statesSent++;
      }
      server.flush();
      return { statesSent, inputsReceived };
    },
    async close() {
      server.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
  };
}

export function rtcmeshClients(clients: readonly number[], send: SendSignal): ClientsEnd {
  const ends = clients.map((id) => {
    const peer = new WebRTCMultiplayerPeer();
    peer.createClient(id);
    peer.transferMode = TransferMode.Reliable;
    const connection = new PeerConnection();
    connection.initialize({ bindAddress: LOOPBACK_HOST });
    wire(connection, (out) => send(id, out));
    peer.addPeer(connection, SERVER_ID);
    connection.createOffer();
    return { id, peer, connection, newest: Number.NaN, connected: false };
  });
  for (const end of ends) end.peer.on('peerConnected', () => (end.connected = true));
  const byId = new Map(clients.map((id, n) => [id, ends[n]!]));
  return {
    signal: (client, signal) => applySignal(byId.get(client)!.connection, signal),
    connected() {
      for (const end of ends) end.peer.poll();
      return ends.filter((end) => end.connected).length;
    },
    tick(input, ages) {
      // The age is of the newest state as the tick begins, as the raw clients take it: what a poll
      // in this tick reads arrived before it began (no callback runs in between).
      const time = clockMs();
      let statesReceived = 0;
      for (const end of ends) {
        const { peer } = end;
        peer.poll();
        for (let state = peer.getPacket(); state !== null; state = peer.getPacket()) {
          end.newest = Math.max(Number.isNaN(end.newest) ? 0 : end.newest, stampOf(state));
          statesReceived++;
        }
        if (ages && !Number.isNaN(end.newest)) ages.push(time - end.newest);
      }
      // Every client's input leaves in one run, as the raw clients' do: the server then receives the
      // same bursts from both, rather than rtcmesh's spread over the time the polls above took.
      for (const { peer } of ends) {
        peer.putPacket(input);
        peer.flush();
      }
      return { statesReceived, inputsSent: ends.length };
    },
    async close() {
      for (const end of ends) end.peer.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
  };
}
