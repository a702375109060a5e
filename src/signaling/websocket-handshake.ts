// The server's side of the WebSocket opening handshake (RFC 6455 section 4.2): checks a client's
// upgrade request and writes the answer. No extension is agreed, so frames carry no reserved bits.
import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';

// RFC 6455 section 1.3: appended to the client's key before hashing.
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// A key is 16 random bytes in base64.
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
// RFC 7230 token characters: what a subprotocol name is made of.
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SUPPORTED_VERSIONS = new Set(['13', '8']);

/** The answer to an upgrade request: the 101 response, or the refusal and why. */
export type HandshakeAnswer = { ok: true; response: string } | { ok: false; status: number; reason: string; headers: string };

/**
 * Checks `request` as a WebSocket upgrade. A client that offers subprotocols is given the first,
 * as the `ws` library's server does: the lobby protocol has no name of its own, and a browser
 * fails a connection whose answer names none of the ones it offered.
 */
export function answerUpgrade(request: IncomingMessage): HandshakeAnswer {
  const { headers } = request;
  if (request.method !== 'GET') return refuse(405, 'WebSocket upgrades use GET');
  if (headers.upgrade?.toLowerCase() !== 'websocket') return refuse(400, 'Upgrade header must be websocket');
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY_PATTERN.test(key)) return refuse(400, 'missing or invalid Sec-WebSocket-Key');
  const version = headers['sec-websocket-version'];
  if (version === undefined || !SUPPORTED_VERSIONS.has(version)) {
    return refuse(400, 'missing or unsupported Sec-WebSocket-Version', 'Sec-WebSocket-Version: 13, 8\r\n');
  }
  const offered = headers['sec-websocket-protocol'];
  let protocol = '';
  if (offered !== undefined) {
    const names = offered.split(',').map((name) => name.trim());
    if (names.some((name) => !TOKEN_PATTERN.test(name))) return refuse(400, 'invalid Sec-WebSocket-Protocol');
    protocol = `Sec-WebSocket-Protocol: ${names[0]}\r\n`;
  }
  const accept = createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
  return {
    ok: true,
    response: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol}\r\n`,
  };
}

/** The HTTP response of a refused upgrade; the connection closes after it. */
export function refusalResponse(answer: { status: number; reason: string; headers: string }): string {
  const body = answer.reason;
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nConnection: close\r\n${answer.headers}` +
    `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function refuse(status: number, reason: string, headers = ''): HandshakeAnswer {
  return { ok: false, status, reason, headers };
}
