import { describe, expect, it } from 'vitest';
import { ConnectionStatus, PeerConnection, TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { expectRtcError } from '../support/errors.js';
import { LOOPBACK_CONFIG } from '../support/transport-pair.js';
import { closeAfterEach } from '../support/close-after-each.js';

const track = closeAfterEach();
function connection(): PeerConnection {
  const pc = track(new PeerConnection());
  pc.initialize(LOOPBACK_CONFIG);
  return pc;
}

describe('WebRTCMultiplayerPeer follows Godot rules, throwing RtcError with Godot error names', () => {
  it('addPeer before create*: ERR_UNCONFIGURED; putPacket while inactive: ERR_UNCONFIGURED', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    expectRtcError(() => peer.addPeer(connection(), 2), 'ERR_UNCONFIGURED');
    expectRtcError(() => peer.putPacket(new Uint8Array(1)), 'ERR_UNCONFIGURED');
    expect(peer.getConnectionStatus()).toBe(ConnectionStatus.Disconnected);
  });

  it('ids are 1 … 2^31-1; a client is never 1', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    expectRtcError(() => peer.createMesh(0), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => peer.createMesh(2 ** 31), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => peer.createMesh(1.5), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => peer.createClient(1), 'ERR_INVALID_PARAMETER');
    peer.createMesh(2 ** 31 - 1);
    expect(peer.getUniqueId()).toBe(2 ** 31 - 1);
  });

  it('create* twice: ERR_ALREADY_IN_USE until close()', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    peer.createServer();
    expectRtcError(() => peer.createMesh(3), 'ERR_ALREADY_IN_USE');
    peer.close();
    peer.createMesh(3);
    expect(peer.getConnectionStatus()).toBe(ConnectionStatus.Connected);
  });

  it('the server is 1 and rejects another 1; a client accepts only peer 1', () => {
    const server = track(new WebRTCMultiplayerPeer());
    server.createServer();
    expect(server.getUniqueId()).toBe(1);
    expect(server.getConnectionStatus()).toBe(ConnectionStatus.Connected);
    expect(server.isServerRelaySupported()).toBe(true);
    expectRtcError(() => server.addPeer(connection(), 1), 'ERR_INVALID_PARAMETER');
    const client = track(new WebRTCMultiplayerPeer());
    client.createClient(5);
    expect(client.getConnectionStatus()).toBe(ConnectionStatus.Connecting);
    expectRtcError(() => client.addPeer(connection(), 2), 'ERR_INVALID_PARAMETER');
    client.addPeer(connection(), 1);
    expect(client.hasPeer(1)).toBe(true);
  });

  it('addPeer takes only a New connection, a new id, not its own id, and not while refusing', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    peer.createMesh(2);
    expect(peer.isServerRelaySupported()).toBe(false);
    const closed = connection();
    closed.close();
    expectRtcError(() => peer.addPeer(closed, 3), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => peer.addPeer(connection(), 2), 'ERR_INVALID_PARAMETER');
    peer.addPeer(connection(), 3);
    expectRtcError(() => peer.addPeer(connection(), 3), 'ERR_ALREADY_EXISTS');
    peer.refuseNewConnections = true;
    expectRtcError(() => peer.addPeer(connection(), 4), 'ERR_UNAUTHORIZED');
    peer.refuseNewConnections = false;
    peer.addPeer(connection(), 4);
    expect([...peer.getPeers().keys()]).toEqual([3, 4]);
  });

  it('unknown peers, bad properties and bad channels configs throw; a gone target returns false', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    expectRtcError(() => peer.createMesh(2, [7 as TransferMode]), 'ERR_INVALID_PARAMETER');
    peer.createMesh(2, [TransferMode.Reliable]);
    expectRtcError(() => peer.removePeer(9), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => peer.getPeer(9), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => peer.getPeerStats(9), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => peer.disconnectPeer(9), 'ERR_DOES_NOT_EXIST');
    expectRtcError(() => (peer.transferMode = 5 as TransferMode), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => (peer.transferChannel = 256), 'ERR_INVALID_PARAMETER');
    expectRtcError(() => peer.setTargetPeer(2 ** 31), 'ERR_INVALID_PARAMETER');
    peer.transferChannel = 2;
    expectRtcError(() => peer.putPacket(new Uint8Array(1)), 'ERR_INVALID_PARAMETER');
    peer.transferChannel = 1;
    expectRtcError(() => peer.putPacket(new Uint8Array(300_000)), 'ERR_INVALID_PARAMETER');
    peer.setTargetPeer(9);
    expect(peer.putPacket(new Uint8Array(1))).toBe(false);
    expect(peer.getUnroutedPacketCount()).toBe(1);
    expectRtcError(() => new WebRTCMultiplayerPeer({ keepaliveTimeoutMs: -1 }), 'ERR_INVALID_PARAMETER');
  });

  it('generates unique ids in 2 … 2^31-1', () => {
    const peer = track(new WebRTCMultiplayerPeer());
    for (let n = 0; n < 1000; n++) {
      const id = peer.generateUniqueId();
      expect(id).toBeGreaterThanOrEqual(2);
      expect(id).toBeLessThanOrEqual(2 ** 31 - 1);
    }
  });
});
