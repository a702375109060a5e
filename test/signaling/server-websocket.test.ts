// The signaling server's own WebSocket layer, against real clients: `ws`, and a bare TCP client
// that sends what a hostile or merely unusual client would.
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '../../src/signaling/protocol.js';
import { SignalingServer, type SignalingServerOptions, type SocketClosedInfo } from '../../src/signaling/server.js';
import { answerUpgrade } from '../../src/signaling/websocket-handshake.js';
import { RawClient } from '../support/ws-client.js';
import { TcpWebSocket, clientFrame } from '../support/tcp-websocket.js';

const servers: SignalingServer[] = [];
const tcpClients: TcpWebSocket[] = [];

afterEach(async () => {
  for (const client of tcpClients.splice(0)) client.destroy();
  await RawClient.closeAll();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Started {
  server: SignalingServer;
  url: string;
  port: number;
  closes: SocketClosedInfo[];
}

async function startServer(options: SignalingServerOptions = {}): Promise<Started> {
  const server = new SignalingServer({ host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  const closes: SocketClosedInfo[] = [];
  server.on('socketClosed', (info) => closes.push(info));
  const { url, port } = await server.listen();
  return { server, url, port, closes };
}

async function openTcp(port: number, options?: Parameters<typeof TcpWebSocket.open>[1]): Promise<TcpWebSocket> {
  const client = await TcpWebSocket.open(port, options);
  tcpClients.push(client);
  return client;
}

interface Wire {
  type: number;
  id: number;
  data: string;
}

/** A host (ws) and a guest on a bare TCP socket, in one mesh lobby; the host has heard the guest arrive. */
async function lobbyWithTcpGuest(url: string, port: number): Promise<{ host: RawClient; guest: TcpWebSocket; guestId: number }> {
  const host = await RawClient.connect(url);
  host.send({ type: MessageType.Join, id: 0, data: '' });
  await host.next();
  const lobby = ((await host.next()) as Wire).data;
  const guest = await openTcp(port);
  guest.write(clientFrame(JSON.stringify({ data: lobby, id: 0, type: MessageType.Join })));
  const id = JSON.parse((await guest.nextFrame()).payload.toString()) as Wire;
  await guest.nextFrame();
  await guest.nextFrame();
  expect((await host.next()) as Wire).toEqual({ type: MessageType.PeerConnect, id: id.id, data: '' });
  return { host, guest, guestId: id.id };
}

function candidate(index: number): string {
  // Godot's client: keys sorted, the candidate's fields on lines of their own.
  return JSON.stringify({ data: `\n0\n0\ncandidate:${index} 1 UDP 2122317823 192.0.2.1 ${50000 + index} typ host`, id: 1, type: MessageType.Candidate });
}

/** The close frame's code and reason. */
function closeOf(payload: Buffer): { code: number; reason: string } {
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}

describe('SignalingServer WebSocket layer: what clients send', () => {
  it('relays a burst of frames written at once and cut at odd places, every one, in order, unchanged but for the id', async () => {
    const { url, port } = await startServer({ messagesPerSecond: 1e9, messageBurst: 1e9 });
    const { host, guest, guestId } = await lobbyWithTcpGuest(url, port);
    const count = 3000;
    const stream = Buffer.concat(Array.from({ length: count }, (_, i) => clientFrame(candidate(i))));
    // Cuts that fall inside headers, masks and payloads alike.
    for (let at = 0; at < stream.length; ) {
      const size = 1 + ((at * 7919) % 4093);
      guest.write(stream.subarray(at, at + size));
      at += size;
    }
    const relayed = (await host.nextMessages(count, 20_000)) as Wire[];
    expect(relayed).toEqual(Array.from({ length: count }, (_, i) => ({ ...(JSON.parse(candidate(i)) as Wire), id: guestId })));
  });

  it('puts together a message sent in fragments, with a ping between them, and answers the ping', async () => {
    const { url, port } = await startServer();
    const { host, guest, guestId } = await lobbyWithTcpGuest(url, port);
    const message = candidate(7);
    guest.write(
      Buffer.concat([
        clientFrame(message.slice(0, 10), 0x1, false),
        clientFrame('are you there', 0x9),
        clientFrame(message.slice(10, 20), 0x0, false),
        clientFrame(message.slice(20), 0x0, true),
      ]),
    );
    const pong = await guest.nextFrame();
    expect(pong).toMatchObject({ fin: true, opcode: 0xa });
    expect(pong.payload.toString()).toBe('are you there');
    expect(await host.next()).toEqual({ ...(JSON.parse(message) as Wire), id: guestId });
  });

  it('relays messages from the ws client sent in fragments', async () => {
    const { url } = await startServer();
    const host = await RawClient.connect(url);
    host.send({ type: MessageType.Join, id: 0, data: '' });
    await host.next();
    const lobby = ((await host.next()) as Wire).data;
    const guest = await RawClient.connect(url);
    guest.send({ type: MessageType.Join, id: 0, data: lobby });
    const guestId = ((await guest.next()) as Wire).id;
    await guest.nextMessages(2);
    await host.next();
    const message = JSON.stringify({ type: MessageType.Offer, id: 1, data: 'v=0 ☃' });
    guest.socket.send(message.slice(0, 5), { fin: false });
    guest.socket.send(message.slice(5), { fin: true });
    expect(await host.next()).toEqual({ type: MessageType.Offer, id: guestId, data: 'v=0 ☃' });
  });

  it("answers the ws client's pings", async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url);
    const pong = new Promise<string>((resolve) => client.socket.once('pong', (data) => resolve(data.toString())));
    client.socket.ping('hello');
    expect(await pong).toBe('hello');
  });

  it("completes a client's close handshake: the server echoes the code, and reports the client's code and reason", async () => {
    const { url, closes } = await startServer();
    const client = await RawClient.connect(url);
    expect(await client.close(4321, 'going home')).toEqual({ code: 4321, reason: '' });
    await expect.poll(() => closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ code: 4321, reason: 'going home', byServer: false, cause: 'client' });
  });

  it('gives a client that offers subprotocols the first, as browsers require', async () => {
    const { url } = await startServer();
    const client = await RawClient.connect(url, { protocols: ['godot', 'other'] } as never);
    expect(client.socket.protocol).toBe('godot');
  });
});

describe('SignalingServer WebSocket layer: protocol errors', () => {
  const cases: [string, () => Buffer, number][] = [
    ['an unmasked frame', () => Buffer.from([0x81, 0x02, 0x7b, 0x7d]), 1002],
    ['a reserved bit', () => Buffer.from([0xc1, 0x80, 0, 0, 0, 0]), 1002],
    ['an unknown opcode', () => Buffer.from([0x83, 0x80, 0, 0, 0, 0]), 1002],
    ['a continuation with nothing to continue', () => clientFrame('x', 0x0), 1002],
    ['a fragmented ping', () => clientFrame('x', 0x9, false), 1002],
    ['a text frame that is not UTF-8', () => clientFrame(Buffer.from([0x7b, 0xff, 0x7d])), 1007],
    ['a 64-bit length of 2^40', () => Buffer.from([0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]), 1009],
  ];
  for (const [what, bytes, code] of cases) {
    it(`closes a socket that sends ${what} with ${code}, logs why, and keeps serving`, async () => {
      const { port, url, closes } = await startServer();
      const client = await openTcp(port);
      client.write(bytes());
      const close = await client.nextFrame();
      expect(close.opcode).toBe(0x8);
      expect(closeOf(close.payload)).toEqual({ code, reason: '' });
      client.write(clientFrame(Buffer.from([(code >> 8) & 0xff, code & 0xff]), 0x8));
      await client.closedWithin();
      await expect.poll(() => closes).toHaveLength(1);
      expect(closes[0]).toMatchObject({ byServer: true, cause: 'bad_frame' });
      expect(closes[0]?.reason).not.toBe('');
      const other = await RawClient.connect(url);
      other.send({ type: MessageType.Join, id: 0, data: '' });
      expect(((await other.next()) as Wire).type).toBe(MessageType.Id);
    });
  }

  it('refuses a frame over twice maxFrameBytes from its header, and one just over maxFrameBytes with 4000', async () => {
    const { port } = await startServer({ maxFrameBytes: 1024 });
    const header = await openTcp(port);
    header.write(Buffer.from([0x81, 0xfe, 0x10, 0x00, 1, 2, 3, 4]));
    expect(closeOf((await header.nextFrame()).payload).code).toBe(1009);
    const over = await openTcp(port);
    over.write(clientFrame('x'.repeat(1500)));
    expect(closeOf((await over.nextFrame()).payload)).toEqual({ code: 4000, reason: 'frame of 1500 bytes exceeds the limit of 1024' });
  });

  it('reports a client that ends TCP after a fault without a close frame as 1006', async () => {
    const { port, closes } = await startServer();
    const client = await openTcp(port);
    client.write(clientFrame('', 0x3));
    expect((await client.nextFrame()).opcode).toBe(0x8);
    client.socket.end();
    await client.closedWithin();
    await expect.poll(() => closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ code: 1006, byServer: true, cause: 'bad_frame' });
  });
});

describe('SignalingServer WebSocket layer: the upgrade', () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  function request(method: string, headers: Record<string, string>): IncomingMessage {
    return { method, headers } as unknown as IncomingMessage;
  }
  const good = { upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13' };

  it("answers RFC 6455's example key with its example accept value", () => {
    const answer = answerUpgrade(request('GET', good));
    expect(answer.ok).toBe(true);
    if (answer.ok) expect(answer.response).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
  });

  it('refuses requests that are not WebSocket upgrades, naming what is wrong', () => {
    const refusals: [IncomingMessage, number][] = [
      [request('POST', good), 405],
      [request('GET', { ...good, upgrade: 'h2c' }), 400],
      [request('GET', { ...good, 'sec-websocket-key': 'short' }), 400],
      [request('GET', { ...good, 'sec-websocket-version': '12' }), 400],
      [request('GET', { ...good, 'sec-websocket-protocol': 'a b' }), 400],
    ];
    for (const [refused, status] of refusals) {
      const answer = answerUpgrade(refused);
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.status).toBe(status);
    }
  });

  it('answers a bad upgrade over the wire with 400 and closes the connection, opening no socket', async () => {
    const { server, port } = await startServer();
    let opened = 0;
    server.on('socketOpened', () => opened++);
    const client = await openTcp(port, {
      request: `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    });
    expect(client.responseHead.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    await client.closedWithin();
    expect(client.rest).toContain('Sec-WebSocket-Key');
    expect(opened).toBe(0);
  });

  it('reads frames that arrive in the same packet as the upgrade request: a JOIN there stops the JOIN deadline', async () => {
    const joinTimeoutMs = 200;
    const { port, closes } = await startServer({ joinTimeoutMs });
    const join = clientFrame(JSON.stringify({ type: MessageType.Join, id: 0, data: '' }));
    const client = await openTcp(port, {
      request: Buffer.concat([
        Buffer.from(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
        join,
      ]).toString('latin1'),
    });
    expect(client.responseHead.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect((JSON.parse((await client.nextFrame()).payload.toString()) as Wire).type).toBe(MessageType.Id);
    // Not a timing: the deadline, had it been left running, fires well within this wait.
    await new Promise((resolve) => setTimeout(resolve, joinTimeoutMs * 3));
    expect(closes).toEqual([]);
  });
});
