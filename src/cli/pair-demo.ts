import { ChannelState, ConnectionState, type DataChannel, PeerConnection, cleanup } from '../index.js';

const FRAME_MS = 16;
const PACKETS = 60;

/**
 * Two peers in one process connect over loopback, exchange reliable and unreliable packets
 * polled at 60 Hz, and print what happened. Resolves with the process exit code.
 */
export async function runPairDemo(print: (line: string) => void): Promise<number> {
  const started = performance.now();
  const [a, b] = [new PeerConnection(), new PeerConnection()];
  for (const [local, remote] of [[a, b], [b, a]] as const) {
    local.initialize({ bindAddress: '127.0.0.1' });
    local.on('sessionDescriptionCreated', (type, sdp) => {
      local.setLocalDescription(type, sdp);
      remote.setRemoteDescription(type, sdp);
    });
    local.on('iceCandidateCreated', (media, index, name) => remote.addIceCandidate(media, index, name));
  }
  const channels = (pc: PeerConnection): DataChannel[] => [
    pc.createDataChannel('reliable', { negotiated: true, id: 1 }),
    pc.createDataChannel('unreliable', { negotiated: true, id: 3, ordered: false, maxRetransmits: 0 }),
  ];
  const [aChannels, bChannels] = [channels(a), channels(b)];
  a.createOffer();
  const received = [0, 0];
  let sent = 0;
  try {
    for (let frame = 0; frame < 600 && received[0]! + received[1]! < 2 * PACKETS; frame++) {
      a.poll();
      b.poll();
      const open = [...aChannels, ...bChannels].every((channel) => channel.getReadyState() === ChannelState.Open);
      if (open && sent < PACKETS) {
        if (sent === 0) print(`connected in ${(performance.now() - started).toFixed(0)} ms`);
        for (const channel of aChannels) channel.putPacket(new TextEncoder().encode(`frame ${frame}`));
        sent++;
      }
      bChannels.forEach((channel, n) => {
        while (channel.getPacket()) received[n]!++;
      });
      await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
    }
    print(`state: a ${ConnectionState[a.getConnectionState()]}, b ${ConnectionState[b.getConnectionState()]}`);
    print(`reliable: sent ${sent}, received ${received[0]}; unreliable: sent ${sent}, received ${received[1]}`);
    return received[0] === PACKETS ? 0 : 1;
  } finally {
    a.close();
    b.close();
    cleanup();
  }
}
