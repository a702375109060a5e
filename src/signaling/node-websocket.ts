// The WebSocket the Node entry gives the signaling client: ws's, with a bound on frame size.
// Node only: the browser entry must not import this file.
import { WebSocket } from 'ws';

/**
 * The largest frame, in bytes, {@link NodeWebSocket} accepts: 1 MiB, the client's default
 * `maxQueuedBytes`, past which a frame is refused anyway. ws's own default (100 MiB) would let a
 * broken server make the client buffer that much before its checks see the frame.
 */
export const NODE_WEBSOCKET_MAX_PAYLOAD = 1024 * 1024;

/**
 * `ws`'s WebSocket for the signaling client in Node.js: the default of `SignalingClient` once
 * "rtcmesh" is imported. A frame over {@link NODE_WEBSOCKET_MAX_PAYLOAD} closes the socket (1009).
 */
export class NodeWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { maxPayload: NODE_WEBSOCKET_MAX_PAYLOAD });
  }
}
