// The signaling layer as a browser may have it: the client and the protocol, not the server.
export { SignalingClient, type SignalingClientEvents } from './client.js';
export {
  SIGNALING_DROP_REASONS,
  type SignalingClientOptions,
  type SignalingDropReason,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client-options.js';
// MAX_PEER_ID is left out: the mesh layer exports the same value under the same name.
export {
  CLOSE_PROTOCOL_ERROR,
  CLOSE_SEAL_COMPLETE,
  HOST_PEER_ID,
  MessageType,
  SEAL_COMPLETE_REASON,
  encodeCandidate,
  encodeMessage,
  parseCandidate,
  parseFrame,
  type CandidateData,
  type ParseResult,
  type SignalingMessage,
} from './protocol.js';
