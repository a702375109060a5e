// The W3C backend's own behaviour: what the shared transport and mesh suites, which run on it in
// the w3c-polyfill project, cannot show. A scripted RTCPeerConnection stands in where the test
// needs an engine that refuses, or that tells what node-datachannel's polyfill does not.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ChannelState,
  ConnectionState,
  type DataChannel,
  PeerConnection,
  cleanup,
  createW3CBackend,
  type RTCPeerConnectionConstructor,
} from '../../src/index.js';
import { createPolyfillBackend } from '../support/backend-setup.js';
import { expectRtcError } from '../support/errors.js';
import { pollFor, pollUntil } from '../support/poll.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';

const SDP = 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:x\r\na=ice-pwd:y\r\na=fingerprint:sha-256 00\r\na=mid:0\r\n';
const CANDIDATE = 'candidate:1 1 udp 2130706431 127.0.0.1 9 typ host';

/** What the scripted engine refuses: each named call rejects. */
type Refusals = Partial<Record<'createOffer' | 'createAnswer' | 'setLocalDescription' | 'setRemoteDescription' | 'addIceCandidate', boolean>>;

/** A scripted channel: records what is sent, lets the test fire its events. */
class ScriptedChannel {
  binaryType = 'blob';
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  constructor(
    readonly label: string,
    readonly init: RTCDataChannelInit & { id?: number | null },
  ) {}
  /** Times `id` was read: Chromium answers it by a blocking call to another thread. */
  idReads = 0;
  get id(): number | null {
    this.idReads++;
    return this.init.id ?? null;
  }
  get ordered(): boolean {
    return this.init.ordered ?? true;
  }
  get negotiated(): boolean {
    return this.init.negotiated ?? false;
  }
  get protocol(): string {
    return this.init.protocol ?? '';
  }
  get maxRetransmits(): number | null {
    return this.init.maxRetransmits ?? null;
  }
  get maxPacketLifeTime(): number | null {
    return this.init.maxPacketLifeTime ?? null;
  }
  send(): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
  }
  close(): void {
    this.readyState = 'closed';
  }
  open(): void {
    this.readyState = 'open';
    this.onopen?.(new Event('open'));
  }
  receive(data: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data }));
  }
}

/** A scripted RTCPeerConnection: every call is recorded; refused ones reject. */
class ScriptedPeerConnection {
  static made: ScriptedPeerConnection[] = [];
  static refusals: Refusals = {};
  /** Calls that wait for their gate to open before the engine answers them. */
  static gates: Partial<Record<keyof Refusals, Promise<void>>> = {};
  readonly calls: string[] = [];
  readonly candidatesAdded: RTCIceCandidateInit[] = [];
  readonly channels: ScriptedChannel[] = [];
  connectionState = 'new';
  iceGatheringState = 'new';
  signalingState = 'stable';
  sctp = { maxMessageSize: 262144 };
  onicecandidate: ((event: { candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onicegatheringstatechange: (() => void) | null = null;
  onsignalingstatechange: (() => void) | null = null;
  ondatachannel: ((event: { channel: ScriptedChannel }) => void) | null = null;
  constructor(readonly configuration: RTCConfiguration) {
    ScriptedPeerConnection.made.push(this);
  }
  private async call(name: keyof Refusals): Promise<void> {
    this.calls.push(name);
    await (ScriptedPeerConnection.gates[name] ?? Promise.resolve());
    if (ScriptedPeerConnection.refusals[name]) throw new Error(`${name} refused`);
  }
  async createOffer(): Promise<RTCSessionDescriptionInit> {
    await this.call('createOffer');
    return { type: 'offer', sdp: SDP };
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    await this.call('createAnswer');
    return { type: 'answer', sdp: SDP };
  }
  async setLocalDescription(): Promise<void> {
    await this.call('setLocalDescription');
  }
  async setRemoteDescription(): Promise<void> {
    await this.call('setRemoteDescription');
  }
  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    this.candidatesAdded.push(candidate);
    await this.call('addIceCandidate');
  }
  createDataChannel(label: string, init: RTCDataChannelInit): ScriptedChannel {
    this.calls.push(`createDataChannel ${label}`);
    const channel = new ScriptedChannel(label, init);
    this.channels.push(channel);
    return channel;
  }
  close(): void {
    this.calls.push('close');
  }
  gather(candidate: string): void {
    this.onicecandidate?.({ candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0 } });
  }
  setConnectionState(state: string): void {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

const scriptedBackend = createW3CBackend(ScriptedPeerConnection as unknown as RTCPeerConnectionConstructor);

const made: PeerConnection[] = [];
function connection(backend = scriptedBackend): PeerConnection {
  const pc = new PeerConnection(backend);
  pc.initialize(LOOPBACK_CONFIG);
  made.push(pc);
  return pc;
}
afterEach(() => {
  for (const pc of made.splice(0)) pc.close();
  ScriptedPeerConnection.made = [];
  ScriptedPeerConnection.refusals = {};
  ScriptedPeerConnection.gates = {};
});
afterAll(() => cleanup());

/** Runs `action` and lets every promise it started settle, collecting unhandled rejections. */
async function unhandledRejectionsOf(action: () => Promise<void>): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const listener = (reason: unknown): void => {
    rejections.push(reason);
  };
  process.on('unhandledRejection', listener);
  try {
    await action();
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return rejections;
}

describe('the W3C backend', () => {
  it('needs an RTCPeerConnection: ERR_UNAVAILABLE without one, as in Node.js', () => {
    expectRtcError(() => createW3CBackend(undefined), 'ERR_UNAVAILABLE');
  });

  it('turns a configuration the engine refuses into ERR_INVALID_PARAMETER', () => {
    const refusing = createW3CBackend(class {
      constructor() {
        throw new TypeError('no such thing');
      }
    } as unknown as RTCPeerConnectionConstructor);
    expectRtcError(() => connection(refusing).createDataChannel('c'), 'ERR_INVALID_PARAMETER');
  });

  it('reports a refused negotiation step as Failed, skips the steps after it, and lets no rejection escape', async () => {
    ScriptedPeerConnection.refusals = { setRemoteDescription: true };
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    const rejections = await unhandledRejectionsOf(async () => {
      pc.setRemoteDescription('offer', SDP);
      pc.addIceCandidate('0', 0, CANDIDATE);
      await pollUntil([pc], () => pc.getConnectionState() === ConnectionState.Failed, 'Failed');
    });
    expect(rejections).toEqual([]);
    const engine = ScriptedPeerConnection.made[0]!;
    // The candidate went into the engine behind the description, where the engine refuses it too.
    expect(engine.calls).toEqual(['setRemoteDescription', 'addIceCandidate']);
    // Failed stays Failed, whatever the engine says after.
    engine.setConnectionState('connecting');
    await pollFor([pc], 20);
    expect(pc.getConnectionState()).toBe(ConnectionState.Failed);
  });

  it('reports a refused offer as Failed, with no rejection escaping', async () => {
    ScriptedPeerConnection.refusals = { createOffer: true };
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    const rejections = await unhandledRejectionsOf(async () => {
      pc.createOffer();
      await pollUntil([pc], () => pc.getConnectionState() === ConnectionState.Failed, 'Failed');
    });
    expect(rejections).toEqual([]);
  });

  it('drops a refused remote candidate and negotiates on', async () => {
    ScriptedPeerConnection.refusals = { addIceCandidate: true };
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    let answered = false;
    pc.on('sessionDescriptionCreated', (type, sdp) => {
      pc.setLocalDescription(type, sdp);
      answered = true;
    });
    const rejections = await unhandledRejectionsOf(async () => {
      pc.setRemoteDescription('offer', SDP);
      pc.addIceCandidate('0', 0, CANDIDATE);
      await pollUntil([pc], () => answered, 'the answer');
      await pollFor([pc], 20);
    });
    expect(rejections).toEqual([]);
    expect(pc.getConnectionState()).not.toBe(ConnectionState.Failed);
    expect(ScriptedPeerConnection.made[0]!.calls).toEqual([
      'setRemoteDescription',
      'addIceCandidate',
      'createDataChannel c',
      'createAnswer',
      'setLocalDescription',
    ]);
  });

  it('hands a remote candidate to the engine once it has the remote description, ahead of the answer being applied', async () => {
    let answerMade!: () => void;
    ScriptedPeerConnection.gates = { createAnswer: new Promise((resolve) => (answerMade = resolve)) };
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    pc.setRemoteDescription('offer', SDP);
    const engine = ScriptedPeerConnection.made[0]!;
    await pollUntil([pc], () => engine.calls.includes('createAnswer'), 'the answer begun');
    // While the engine makes the answer: the candidate does not wait for it, nor for it to be applied.
    pc.addIceCandidate('0', 0, CANDIDATE);
    expect(engine.calls).toEqual(['setRemoteDescription', 'createDataChannel c', 'createAnswer', 'addIceCandidate']);
    expect(engine.candidatesAdded).toEqual([{ candidate: CANDIDATE, sdpMid: '0' }]);
    answerMade();
    await pollUntil([pc], () => engine.calls.includes('setLocalDescription'), 'the answer applied');
    expect(pc.getConnectionState()).not.toBe(ConnectionState.Failed);
  });

  it('applies a description as it creates it: setLocalDescription only checks what it is given', async () => {
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    const created: Array<['offer' | 'answer', string]> = [];
    pc.on('sessionDescriptionCreated', (type, sdp) => created.push([type, sdp]));
    const engine = ScriptedPeerConnection.made[0]!;
    pc.createOffer();
    await pollUntil([pc], () => created.length === 1 && engine.calls.includes('setLocalDescription'), 'the offer, applied');
    expect(engine.calls).toEqual(['createDataChannel c', 'createOffer', 'setLocalDescription']);
    pc.setLocalDescription(...created[0]!);
    expectRtcError(() => pc.setLocalDescription('offer', `${SDP}a=x\r\n`), 'ERR_INVALID_PARAMETER');
    await pollFor([pc], 20);
    expect(engine.calls).toEqual(['createDataChannel c', 'createOffer', 'setLocalDescription']);
    expect(pc.getConnectionState()).not.toBe(ConnectionState.Failed);
  });

  it('creates channels in the engine only when negotiation starts, answering after the remote offer', async () => {
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    pc.createDataChannel('chat', { ordered: false, maxRetransmits: 0, protocol: 'p' });
    const engine = ScriptedPeerConnection.made[0]!;
    // node-datachannel's polyfill offers by itself as soon as a channel exists (glare on an answerer).
    expect(engine.channels).toEqual([]);
    pc.setRemoteDescription('offer', SDP);
    await pollUntil([pc], () => engine.channels.length === 2, 'the channels in the engine');
    expect(engine.calls.slice(0, 3)).toEqual(['setRemoteDescription', 'createDataChannel c', 'createDataChannel chat']);
    expect(engine.channels.map((channel) => channel.init)).toEqual([
      { ordered: true, protocol: '', negotiated: true, id: 1 },
      { ordered: false, protocol: 'p', maxRetransmits: 0 },
    ]);
    expect(engine.channels.every((channel) => channel.binaryType === 'arraybuffer')).toBe(true);
  });

  it('tells a negotiated channel\'s id from its options, and reads an in-band one\'s from the engine once open', async () => {
    const pc = connection();
    const negotiated = pc.createDataChannel('c', { negotiated: true, id: 5 });
    const inBand = pc.createDataChannel('chat');
    pc.setRemoteDescription('offer', SDP);
    const engine = ScriptedPeerConnection.made[0]!;
    await pollUntil([pc], () => engine.channels.length === 2, 'the channels in the engine');
    const [engineNegotiated, engineInBand] = engine.channels as [ScriptedChannel, ScriptedChannel];
    // The engine gives an in-band channel its id once the DTLS roles are known.
    engineInBand.init.id = 6;
    engineNegotiated.open();
    engineInBand.open();
    pc.poll();
    expect([negotiated.getId(), inBand.getId()]).toEqual([5, 6]);
    expect(engineNegotiated.idReads).toBe(0);
    expect(engineInBand.idReads).toBeGreaterThan(0);
  });

  it('strips "a=" from a remote candidate, which browsers refuse', async () => {
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    pc.setRemoteDescription('offer', SDP);
    pc.addIceCandidate('0', 0, `a=${CANDIDATE}`);
    const engine = ScriptedPeerConnection.made[0]!;
    await pollUntil([pc], () => engine.candidatesAdded.length === 1, 'the candidate in the engine');
    expect(engine.candidatesAdded).toEqual([{ candidate: CANDIDATE, sdpMid: '0' }]);
  });

  it('tells the options of a channel the remote opened in-band, and what it said before the next poll', async () => {
    const pc = connection();
    pc.createDataChannel('c', { negotiated: true, id: 1 });
    const received: DataChannel[] = [];
    pc.on('dataChannelReceived', (channel) => received.push(channel));
    const engine = ScriptedPeerConnection.made[0]!;
    const remote = new ScriptedChannel('chat', { ordered: false, maxPacketLifeTime: 150, protocol: 'text', id: 3 });
    remote.readyState = 'open';
    engine.ondatachannel!({ channel: remote });
    // Before rtcmesh takes the channel (at the next poll), a message and the close are held.
    remote.receive(new Uint8Array([1, 2]).buffer);
    remote.receive('hi');
    pc.poll();
    expect(received).toHaveLength(1);
    const channel = received[0]!;
    expect(channel.getLabel()).toBe('chat');
    expect(channel.isOrdered()).toBe(false);
    expect(channel.getMaxPacketLifeTime()).toBe(150);
    expect(channel.getMaxRetransmits()).toBe(65535);
    expect(channel.getProtocol()).toBe('text');
    expect(channel.isNegotiated()).toBe(false);
    expect(channel.getId()).toBe(3);
    expect(channel.getReadyState()).toBe(ChannelState.Open);
    expect(channel.getPacket()).toEqual(new Uint8Array([1, 2]));
    expect(new TextDecoder().decode(channel.getPacket()!)).toBe('hi');
    expect(channel.wasStringPacket()).toBe(true);
  });

  it('reports local candidates only after the description, and an offerer\'s after the answer with holdOfferCandidates', async () => {
    const holding = createW3CBackend(ScriptedPeerConnection as unknown as RTCPeerConnectionConstructor, { holdOfferCandidates: true });
    const offerer = connection(holding);
    offerer.createDataChannel('c', { negotiated: true, id: 1 });
    const events: string[] = [];
    offerer.on('sessionDescriptionCreated', (type, sdp) => {
      events.push(type);
      offerer.setLocalDescription(type, sdp);
    });
    offerer.on('iceCandidateCreated', (_media, _index, name) => events.push(name));
    const engine = ScriptedPeerConnection.made[0]!;
    engine.gather(`a=${CANDIDATE}`);
    offerer.createOffer();
    await pollUntil([offerer], () => events.length > 0, 'the offer');
    engine.gather(CANDIDATE);
    await pollFor([offerer], 20);
    expect(events).toEqual(['offer']);
    offerer.setRemoteDescription('answer', SDP);
    await pollUntil([offerer], () => events.length === 3, 'the held candidates');
    expect(events).toEqual(['offer', CANDIDATE, CANDIDATE]);
  });

  it('connects over node-datachannel\'s polyfill with candidates in the "a=candidate:" form', async () => {
    const backend = createPolyfillBackend();
    const a = connection(backend);
    const b = connection(backend);
    const channel = a.createDataChannel('c', { negotiated: true, id: 1 });
    b.createDataChannel('c', { negotiated: true, id: 1 });
    for (const [local, remote] of [
      [a, b],
      [b, a],
    ] as const) {
      local.on('sessionDescriptionCreated', (type, sdp) => {
        local.setLocalDescription(type, sdp);
        remote.setRemoteDescription(type, sdp);
      });
      // libdatachannel's own form, as a node-datachannel peer may send it.
      local.on('iceCandidateCreated', (media, index, name) => remote.addIceCandidate(media, index, `a=${name}`));
    }
    a.createOffer();
    // Each side's state arrives on its own: wait for both rather than read one the moment the other opens.
    await pollUntil(
      [a, b],
      () => channel.getReadyState() === ChannelState.Open && b.getConnectionState() === ConnectionState.Connected,
      'the channel to open on a connected pair',
    );
  });
});
