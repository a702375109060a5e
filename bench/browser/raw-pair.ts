/**
 * The browser scenario's raw baseline: two RTCPeerConnections in one page, their descriptions and
 * candidates handed across in memory, with negotiated channels of the reliability rtcmesh gives
 * its own (reliable: ordered; unreliable: unordered, no retransmission).
 */
import { loopUntil } from '../loop.js';
import { nextTask } from './page-loop.js';

export const RELIABLE_INIT: RTCDataChannelInit = { ordered: true };
export const UNRELIABLE_INIT: RTCDataChannelInit = { ordered: false, maxRetransmits: 0 };

/** A negotiated channel, made alike on both sides. */
export interface RawChannelSpec {
  id: number;
  init: RTCDataChannelInit;
}

/** The channels of a connected pair, in the layout's order on each side. */
export interface RawPair {
  a: RTCDataChannel[];
  b: RTCDataChannel[];
  close(): void;
}

/** Connects two RTCPeerConnections of this page and waits for every channel to open. */
export async function connectRawPair(layout: readonly RawChannelSpec[], timeoutMs: number): Promise<RawPair> {
  const pcs = [new RTCPeerConnection(), new RTCPeerConnection()] as const;
  const channels = pcs.map((pc) =>
    layout.map(({ id, init }) => {
      const channel = pc.createDataChannel(`channel ${id}`, { ...init, negotiated: true, id });
      channel.binaryType = 'arraybuffer';
      return channel;
    }),
  );
  const close = (): void => {
    for (const pc of pcs) pc.close();
  };
  // A candidate waits until its receiver has the remote description, as rtcmesh's PeerConnection holds early ones.
  const described = [false, false];
  const held: RTCIceCandidate[][] = [[], []];
  pcs.forEach((pc, n) => {
    const other = 1 - n;
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate?.candidate) return;
      if (described[other]) pcs[other]!.addIceCandidate(candidate).catch(() => undefined);
      else held[other]!.push(candidate);
    };
  });
  const describe = async (n: number, description: RTCSessionDescriptionInit): Promise<void> => {
    await pcs[n]!.setRemoteDescription(description);
    described[n] = true;
    for (const candidate of held[n]!.splice(0)) await pcs[n]!.addIceCandidate(candidate);
  };
  try {
    const offer = await pcs[0].createOffer();
    await pcs[0].setLocalDescription(offer);
    await describe(1, offer);
    const answer = await pcs[1].createAnswer();
    await pcs[1].setLocalDescription(answer);
    await describe(0, answer);
    await loopUntil(() => channels.every((side) => side.every((channel) => channel.readyState === 'open')), 'the raw channels to open', timeoutMs, nextTask);
  } catch (error) {
    close();
    throw error;
  }
  return { a: channels[0]!, b: channels[1]!, close };
}
