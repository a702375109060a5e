// The per-peer half of the signaling client: what one PeerConnection produces goes out through
// signaling, and what the server relays from that peer goes into the connection. Browser-safe.
import { type PeerConnection, RtcError } from '../transport/index.js';
import type { SignalingDropReason } from './client-options.js';
import { MessageType, type SignalingMessage, encodeCandidate, parseCandidate } from './protocol.js';

/** Sends one message to the server; the client drops it when the socket is not open. */
export type SendMessage = (message: SignalingMessage) => void;

/**
 * Wires a connection's negotiation events to signaling, as the Godot demo's client does: each
 * description it creates is applied locally and sent to `peerId`, and so is each candidate.
 */
export function wireNegotiation(connection: PeerConnection, peerId: number, send: SendMessage): void {
  connection.on('sessionDescriptionCreated', (type, sdp) => {
    connection.setLocalDescription(type, sdp);
    send({ type: type === 'offer' ? MessageType.Offer : MessageType.Answer, id: peerId, data: sdp });
  });
  connection.on('iceCandidateCreated', (media, index, name) => {
    let data: string;
    try {
      data = encodeCandidate(media, index, name);
    } catch (error) {
      // A candidate the protocol cannot carry stays home: ICE goes on with the others, and
      // these events fire inside the game's poll(), which must not throw.
      if (error instanceof RtcError) return;
      throw error;
    }
    send({ type: MessageType.Candidate, id: peerId, data });
  });
}

/**
 * Applies an OFFER, ANSWER or CANDIDATE relayed from the connection's peer. Returns why it was
 * dropped, or null: the transport refuses whatever is malformed or out of turn with an RtcError,
 * which must not leave `poll()`.
 */
export function applyNegotiation(connection: PeerConnection, message: SignalingMessage): SignalingDropReason | null {
  if (message.type === MessageType.Candidate) {
    const candidate = parseCandidate(message.data);
    if (candidate === null) return 'badCandidate';
    return refusedAs('badCandidate', () => connection.addIceCandidate(candidate.mid, candidate.mlineIndex, candidate.sdp));
  }
  const type = message.type === MessageType.Offer ? 'offer' : 'answer';
  return refusedAs('badDescription', () => connection.setRemoteDescription(type, message.data));
}

function refusedAs(reason: SignalingDropReason, apply: () => void): SignalingDropReason | null {
  try {
    apply();
    return null;
  } catch (error) {
    if (error instanceof RtcError) return reason;
    throw error;
  }
}
