/**
 * rtcmesh for browsers: the API of the Node entry but the signaling server and the Node-only
 * backend and socket, with the browser's `RTCPeerConnection` as the default WebRTC backend and its
 * `WebSocket` for the signaling client. Nothing reachable from here imports a Node module: the
 * build checks it (scripts/build.mjs).
 */
import { SignalingClient } from './signaling/client.js';
import type { WebSocketConstructor } from './signaling/client-options.js';
import { createW3CBackend } from './transport/backends/w3c.js';
import { PeerConnection } from './transport/peer-connection.js';

// Where there is none (a worker without WebRTC, a test), PeerConnection asks for a backend instead.
if (typeof globalThis.RTCPeerConnection === 'function') PeerConnection.setDefaultBackend(createW3CBackend());
const BrowserWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
if (typeof BrowserWebSocket === 'function') SignalingClient.setDefaultWebSocket(BrowserWebSocket);

export * from './transport/index.js';
export * from './mesh/index.js';
export * from './rpc/index.js';
export * from './replication/index.js';
export * from './multiplayer/index.js';
// The client and protocol only: the signaling index also exports the server, which needs Node.
export * from './signaling/client-exports.js';
export * from './transport/backends/portable.js';

/**
 * Releases the default backend's resources, as the Node entry's `cleanup()` does. The browser's
 * backend holds none, so this only matters for a backend set with `PeerConnection.setDefaultBackend`.
 */
export function cleanup(): void {
  PeerConnection.getDefaultBackend()?.cleanup?.();
}
