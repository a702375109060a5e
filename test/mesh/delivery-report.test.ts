import { describe, expect, it } from 'vitest';
import { type DataChannel, WebRTCMultiplayerPeer } from '../../src/index.js';
import { SYSTEM_CHANNEL_OPTIONS, channelLayout, channelOptions } from '../../src/mesh/channel-layout.js';
import { recordSize } from '../../src/mesh/framing.js';
import { decodeSystemMessage, encodePing, encodePong } from '../../src/mesh/system-messages.js';
import { clockMs } from '../../src/mesh/clock.js';
import { makeGroup } from '../support/mesh.js';
import { pollUntil } from '../support/poll.js';
import { wirePair } from '../support/transport-pair.js';
import { closeAfterEach } from '../support/close-after-each.js';

const track = closeAfterEach();

const PACKET = new Uint8Array(1000).fill(7);
const COUNT = 200;

describe("the peer's report of reliable bytes received", () => {
  it('undeliveredBytes holds reliable bytes from the put until the peer reports them received', async () => {
    const g = track(makeGroup(2, { meshOptions: { keepaliveIntervalMs: 50 } }));
    await g.pollUntil(() => g.members.every((m) => m.connected.length === 1), 'a connected pair');
    const [sender, receiver] = [g.byId(2).peer, g.byId(1).peer];
    expect(sender.getPeerStats(1).undeliveredBytes).toBe(0);
    for (let n = 0; n < COUNT; n++) expect(sender.putPacket(PACKET)).toBe(true);
    expect(sender.getPeerStats(1).undeliveredBytes).toBe(COUNT * recordSize(PACKET.byteLength));
    let received = 0;
    await g.pollUntil(() => {
      while (receiver.getPacket()) received++;
      return received === COUNT && sender.getPeerStats(1).undeliveredBytes === 0;
    }, 'every packet, and the report of it');
    expect(sender.getPeerStats(1).dropped.malformed).toBe(0);
    // The other direction carried nothing reliable.
    expect(receiver.getPeerStats(2).undeliveredBytes).toBe(0);
  });

  it('counts a report of more than was sent as malformed, keeps the count it had, and still answers honest pings', async () => {
    // rtcmesh on one side; on the other, a bare connection speaking the system channel by hand.
    const peer = new WebRTCMultiplayerPeer();
    peer.createMesh(1);
    track(peer);
    const pair = track(wirePair());
    peer.addPeer(pair.a, 2);
    const system = pair.b.createDataChannel('system', SYSTEM_CHANNEL_OPTIONS);
    const lanes: DataChannel[] = channelLayout([]).map((spec) => pair.b.createDataChannel(spec.label, channelOptions(spec.sctpId, spec.mode)));
    pair.a.createOffer();
    const targets = [peer, pair.b];
    await pollUntil(targets, () => peer.getPeers().get(2)?.connected === true, 'the hand-made peer to connect');

    expect(peer.putPacket(PACKET)).toBe(true);
    const sent = recordSize(PACKET.byteLength);
    let reliableReceived = 0;
    await pollUntil(targets, () => {
      for (let message = lanes[0]!.getPacket(); message; message = lanes[0]!.getPacket()) reliableReceived += message.byteLength;
      return reliableReceived === sent;
    }, 'the reliable message');
    expect(peer.getPeerStats(2).undeliveredBytes).toBe(sent);

    system.putPacket(encodePing(clockMs(), sent + 1, [0]));
    system.putPacket(encodePong(clockMs(), clockMs(), 2 ** 40));
    await pollUntil(targets, () => peer.getPeerStats(2).dropped.malformed === 2, 'both lies to be counted');
    expect(peer.getPeerStats(2).undeliveredBytes).toBe(sent);

    const stamp = clockMs();
    system.putPacket(encodePing(stamp, sent, [0]));
    let answer: ReturnType<typeof decodeSystemMessage> = null;
    await pollUntil(targets, () => {
      for (let message = system.getPacket(); message; message = system.getPacket()) {
        const decoded = decodeSystemMessage(message, 1);
        if (decoded?.kind === 'pong' && decoded.stamp === stamp) answer = decoded;
      }
      return answer !== null;
    }, 'the answer to the honest ping');
    expect(answer).toMatchObject({ kind: 'pong', stamp, received: 0 });
    expect(peer.getPeerStats(2).undeliveredBytes).toBe(0);
    expect(peer.getPeerStats(2).connected).toBe(true);
  });
});
