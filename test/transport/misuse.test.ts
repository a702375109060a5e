import { describe, expect, it } from 'vitest';
import { PeerConnection, RtcError } from '../../src/index.js';
import { expectRtcError } from '../support/errors.js';
import { connectPair, wirePair } from '../support/transport-pair.js';
import { closeAfterEach } from '../support/close-after-each.js';

const track = closeAfterEach();
function connection(): PeerConnection {
  const pc = track(new PeerConnection());
  pc.initialize({ bindAddress: '127.0.0.1' });
  return pc;
}

describe('PeerConnection misuse throws RtcError with the Godot error name', () => {
  it('createOffer with no channel: ERR_UNCONFIGURED', () => {
    expectRtcError(() => connection().createOffer(), 'ERR_UNCONFIGURED');
  });

  it('createDataChannel after negotiation started: ERR_UNAVAILABLE', () => {
    const pc = connection();
    pc.createDataChannel('a', { negotiated: true, id: 1 });
    pc.createOffer();
    expectRtcError(() => pc.createDataChannel('b', { negotiated: true, id: 2 }), 'ERR_UNAVAILABLE');
  });

  it('createOffer twice: ERR_UNAVAILABLE', () => {
    const pc = connection();
    pc.createDataChannel('a', { negotiated: true, id: 1 });
    pc.createOffer();
    expectRtcError(() => pc.createOffer(), 'ERR_UNAVAILABLE');
  });

  it('negotiated without id, id without negotiated, lifetime with retransmits: ERR_INVALID_PARAMETER', () => {
    const pc = connection();
    expectRtcError(() => pc.createDataChannel('a', { negotiated: true }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.createDataChannel('a', { id: 3 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.createDataChannel('a', { maxPacketLifeTime: 100, maxRetransmits: 0 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.createDataChannel('a', { negotiated: true, id: 70000 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.createDataChannel('a', { maxRetransmits: -1 }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.createDataChannel('a', { maxPacketLifeTime: 1.5 }), 'ERR_INVALID_PARAMETER');
  });

  it('a negotiated id used twice: ERR_ALREADY_IN_USE', () => {
    const pc = connection();
    pc.createDataChannel('a', { negotiated: true, id: 4 });
    expectRtcError(() => pc.createDataChannel('b', { negotiated: true, id: 4 }), 'ERR_ALREADY_IN_USE');
  });

  it('bad configurations: ERR_INVALID_PARAMETER', () => {
    const pc = connection();
    expectRtcError(() => pc.initialize({ iceServers: [{ urls: 'http://example.invalid' }] }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.initialize({ iceServers: [{ urls: 'turn:relay.invalid' }] }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.initialize({ iceServers: [{ urls: [] }] }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.initialize({ portRange: { begin: 9000, end: 8000 } }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.initialize({ iceTransportPolicy: 'none' as 'all' }), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.initialize({ receiveLimitBytes: 0 }), 'ERR_INVALID_PARAMETER');
  });

  it('accepts STUN and TURN servers in the Godot/W3C shape', () => {
    const pc = new PeerConnection();
    track(pc);
    // node-datachannel's polyfill hands ICE servers to libdatachannel as URL strings, and
    // libdatachannel misparses a bracketed IPv6 host in one (docs/design.md); the node-datachannel
    // backend passes the object form instead. A browser takes "stun:[::1]" as it is.
    const onPolyfill = process.env.RTCMESH_BACKEND === 'w3c';
    pc.initialize({
      bindAddress: '127.0.0.1',
      iceServers: [
        { urls: onPolyfill ? ['stun:127.0.0.1:3478'] : ['stun:127.0.0.1:3478', 'stun:[::1]'] },
        { urls: 'turn:127.0.0.1:3478?transport=tcp', username: 'u', credential: 'p' },
        { urls: 'turns:127.0.0.1', username: 'u', credential: 'p' },
      ],
      iceTransportPolicy: 'relay',
      portRange: { begin: 40000, end: 40100 },
    });
    expect(pc.createDataChannel('a').getLabel()).toBe('a');
  });

  it('a packet over the maximum size, and a send before open: ERR_INVALID_PARAMETER and ERR_UNCONFIGURED', async () => {
    const pair = wirePair();
    track(pair);
    const channel = pair.a.createDataChannel('c', { negotiated: true, id: 1 });
    pair.b.createDataChannel('c', { negotiated: true, id: 1 });
    expectRtcError(() => channel.putPacket(new Uint8Array(1)), 'ERR_UNCONFIGURED');
    await connectPair(pair);
    await pair.pollUntil(() => channel.getReadyState() === 1, 'the channel to open');
    expectRtcError(() => channel.putPacket(new Uint8Array(channel.getMaxPacketSize() + 1)), 'ERR_INVALID_PARAMETER');
  });

  it('malformed SDP or candidate text: ERR_INVALID_PARAMETER', () => {
    const pc = connection();
    pc.createDataChannel('a', { negotiated: true, id: 1 });
    expectRtcError(() => pc.setRemoteDescription('offer', 'hello'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.setRemoteDescription('rollback' as 'offer', 'v=0'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.addIceCandidate('0', 0, 'garbage'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.addIceCandidate('0', -1, 'candidate:1 1 udp 1 127.0.0.1 9 typ host'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.addIceCandidate('x'.repeat(100), 0, 'candidate:1 1 udp 1 127.0.0.1 9 typ host'), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => pc.setLocalDescription('offer', 'v=0'), 'ERR_INVALID_PARAMETER');
  });

  it('any call after close(): ERR_UNCONFIGURED, until initialize()', () => {
    const pc = connection();
    pc.close();
    expectRtcError(() => pc.createDataChannel('a'), 'ERR_UNCONFIGURED');
    expectRtcError(() => pc.createOffer(), 'ERR_UNCONFIGURED');
    expectRtcError(() => pc.setRemoteDescription('offer', 'v=0'), 'ERR_UNCONFIGURED');
    expectRtcError(() => pc.setLocalDescription('offer', 'v=0'), 'ERR_UNCONFIGURED');
    expectRtcError(() => pc.addIceCandidate('0', 0, 'candidate:1 1 udp 1 127.0.0.1 9 typ host'), 'ERR_UNCONFIGURED');
    pc.close();
    pc.initialize({ bindAddress: '127.0.0.1' });
    expect(pc.createDataChannel('a')).toBeDefined();
  });

  it('a closed channel refuses packets with ERR_UNCONFIGURED', async () => {
    const pair = wirePair();
    track(pair);
    const channel = pair.a.createDataChannel('c', { negotiated: true, id: 1 });
    pair.b.createDataChannel('c', { negotiated: true, id: 1 });
    await connectPair(pair);
    channel.close();
    expectRtcError(() => channel.putPacket(new Uint8Array(1)), 'ERR_UNCONFIGURED');
    expect(channel.getPacket()).toBeNull();
  });

  it('RtcError is an Error with a code', () => {
    const error = new RtcError('FAILED', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RtcError');
  });
});
