/**
 * The baseline of the signaling benchmark: a relay written for it from the protocol (docs/wire-format.md
 * section 5), doing for each message the work of Godot's demo servers: parse the JSON, check the
 * fields and the destination, stringify the message again with the sender's id, send it. It keeps
 * lobbies and ids as the protocol wants and has no limits, timers or metrics.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { CLOSE_PROTOCOL_ERROR, MessageType } from '../../src/signaling/protocol.js';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';

const { Join: JOIN, Id: ID, PeerConnect: PEER_CONNECT, PeerDisconnect: PEER_DISCONNECT, Offer: OFFER, Candidate: CANDIDATE } = MessageType;

interface Member {
  socket: WebSocket;
  id: number;
  lobby: Lobby | null;
}

interface Lobby {
  mesh: boolean;
  members: Map<number, Member>;
  nextId: number;
}

/** A running reference relay. */
export interface ReferenceRelay {
  port: number;
}

/** Starts the reference relay on 127.0.0.1 and a free port. */
export async function startReferenceRelay(): Promise<ReferenceRelay> {
  const lobbies = new Map<string, Lobby>();
  let lobbySerial = 0;
  const http = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server: http });
  const send = (member: Member, type: number, id: number, data: string): void => {
    if (member.socket.readyState === WebSocket.OPEN) member.socket.send(JSON.stringify({ type, id, data }));
  };
  wss.on('connection', (socket) => {
    const self: Member = { socket, id: 0, lobby: null };
    socket.on('message', (raw, isBinary) => {
      let message: { type: unknown; id: unknown; data: unknown };
      try {
        message = JSON.parse(String(raw)) as typeof message;
      } catch {
        socket.close(CLOSE_PROTOCOL_ERROR, 'bad JSON');
        return;
      }
      const { type, id } = message;
      const data = typeof message.data === 'string' ? message.data : '';
      if (isBinary || typeof type !== 'number' || typeof id !== 'number' || !Number.isInteger(type) || !Number.isInteger(id)) {
        socket.close(CLOSE_PROTOCOL_ERROR, 'bad message');
        return;
      }
      if (type === JOIN && self.lobby === null) {
        let lobby: Lobby | undefined;
        let name = data;
        if (name === '') {
          name = `L${++lobbySerial}`;
          lobby = { mesh: id === 0, members: new Map(), nextId: 2 };
          lobbies.set(name, lobby);
        } else lobby = lobbies.get(name);
        if (lobby === undefined) {
          socket.close(CLOSE_PROTOCOL_ERROR, 'no such lobby');
          return;
        }
        self.id = lobby.members.size === 0 ? 1 : lobby.nextId++;
        send(self, ID, self.id, lobby.mesh ? 'true' : '');
        for (const other of lobby.members.values()) {
          if (!lobby.mesh && other.id !== 1 && self.id !== 1) continue;
          send(other, PEER_CONNECT, self.id, '');
          send(self, PEER_CONNECT, other.id, '');
        }
        lobby.members.set(self.id, self);
        self.lobby = lobby;
        send(self, JOIN, 0, name);
        return;
      }
      const lobby = self.lobby;
      const destination = lobby?.members.get(id);
      if (type < OFFER || type > CANDIDATE || destination === undefined || destination === self) {
        socket.close(CLOSE_PROTOCOL_ERROR, 'bad destination');
        return;
      }
      send(destination, type, self.id, data);
    });
    socket.on('close', () => {
      const lobby = self.lobby;
      if (lobby === null) return;
      lobby.members.delete(self.id);
      for (const other of lobby.members.values()) send(other, PEER_DISCONNECT, self.id, '');
    });
  });
  await new Promise<void>((resolve) => http.listen(0, LOOPBACK_HOST, resolve));
  return { port: (http.address() as AddressInfo).port };
}
