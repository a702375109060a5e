/**
 * The only address the arena's Node.js programs bind, and the only one their WebRTC connections
 * gather candidates on: the sample runs on one machine. To play across a network, bind the
 * servers to the machine's address and drop `bindAddress` from the peer configs.
 */
export const LOOPBACK_HOST = '127.0.0.1';
