import { describe, expect, it } from 'vitest';
import { AUTHORITY_EVENT_INTERVAL_MS, type ConnectionStatus, type MultiplayerAPI, MultiplayerPeer, type TransferMode, WebRTCMultiplayerPeer } from '../../src/index.js';
import { closeAfterEach } from '../support/close-after-each.js';
import { pollFor } from '../support/poll.js';
import { type ApiGroup, makeApiGroup } from '../support/rpc.js';

const track = closeAfterEach();

/** A multiplayer peer of the game's own: here, one that passes everything to a WebRTCMultiplayerPeer. */
class ForwardingPeer extends MultiplayerPeer {
  readonly disconnected: number[] = [];

  constructor(private readonly inner: WebRTCMultiplayerPeer) {
    super();
    inner.on('peerConnected', (id) => this.emit('peerConnected', id));
    inner.on('peerDisconnected', (id) => this.emit('peerDisconnected', id));
  }

  putPacket(packet: Uint8Array): boolean {
    this.inner.setTargetPeer(this.targetPeer);
    this.inner.transferMode = this.transferMode;
    this.inner.transferChannel = this.transferChannel;
    return this.inner.putPacket(packet);
  }
  getPacket(): Uint8Array | null {
    return this.inner.getPacket();
  }
  getAvailablePacketCount(): number {
    return this.inner.getAvailablePacketCount();
  }
  getPacketPeer(): number {
    return this.inner.getPacketPeer();
  }
  getPacketChannel(): number {
    return this.inner.getPacketChannel();
  }
  getPacketMode(): TransferMode {
    return this.inner.getPacketMode();
  }
  poll(): void {
    this.inner.poll();
  }
  close(): void {
    this.inner.close();
  }
  disconnectPeer(id: number, force?: boolean): void {
    this.disconnected.push(id);
    this.inner.disconnectPeer(id, force);
  }
  getConnectionStatus(): ConnectionStatus {
    return this.inner.getConnectionStatus();
  }
  getUniqueId(): number {
    return this.inner.getUniqueId();
  }
  isServerRelaySupported(): boolean {
    return this.inner.isServerRelaySupported();
  }
}

/** A door whose `open` is async and fails for the wrong key, and whose `lock` only its authority may call. */
function registerDoor(api: MultiplayerAPI): string[] {
  const opened: string[] = [];
  const door = {
    async open(key: string): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (key !== 'brass') throw new Error(`the key ${key} does not fit`);
      opened.push(key);
    },
    lock(): void {
      opened.push('locked');
    },
  };
  api.register('/door', door, { open: { mode: 'anyPeer' }, lock: { mode: 'authority' } });
  return opened;
}

async function group(count: number, topology: 'mesh' | 'server', prepare?: (api: MultiplayerAPI, id: number) => void): Promise<ApiGroup> {
  return track(await makeApiGroup(count, { topology, api: { maxAuthorityViolations: 3 }, prepare }));
}

describe('RPC errors that must not end the process', () => {
  it("reports an async handler's rejection through the error event, inside poll()", async () => {
    const g = await group(2, 'mesh');
    const doors = g.apis.map(registerDoor);
    const errors: string[] = [];
    let polling = false;
    g.api(1).on('error', (error, context) => errors.push(`${error.message} ${context.path} ${context.method} ${context.peerId} ${polling}`));
    const poll = g.api(1).poll.bind(g.api(1));
    g.api(1).poll = () => {
      polling = true;
      poll();
      polling = false;
    };
    g.api(2).rpc('/door', 'open', 'tin');
    g.api(2).rpc('/door', 'open', 'brass');
    await g.pollUntil(() => errors.length === 1 && doors[0]!.length === 1, 'the rejection and the success');
    expect(errors).toEqual(['the key tin does not fit /door open 2 true']);
  });

  it('emits authorityViolation at most once a second per peer, while the stats count every one', async () => {
    const g = await group(3, 'mesh');
    const doors = g.apis.map(registerDoor);
    const events: string[] = [];
    g.api(3).on('authorityViolation', (id, context) => events.push(`${id} ${context.path} ${context.method} ${context.violations}`));
    for (let n = 0; n < 2; n++) g.api(2).rpc('/door', 'lock');
    await g.pollUntil(() => g.api(3).getPeerStats(2).authorityViolations === 2, 'two violations');
    await pollFor(g.apis, 100);
    expect(events).toEqual(['2 /door lock 1']);
    expect(doors[2]).toEqual([]);
    g.api(1).rpcId(3, '/door', 'lock');
    await g.pollUntil(() => doors[2]!.length === 1, "the authority's call");
    // Once the interval has passed, the next violation is heard of again, with the count so far.
    await pollFor(g.apis, AUTHORITY_EVENT_INTERVAL_MS + 100);
    g.api(2).rpc('/door', 'lock');
    await g.pollUntil(() => events.length === 2, 'the next event');
    expect(events[1]).toBe('2 /door lock 3');
  });

  it('drops a repeat violator through any MultiplayerPeer, not only a WebRTCMultiplayerPeer', async () => {
    let forwarding: ForwardingPeer | undefined;
    const g = await group(3, 'server', (api, id) => {
      if (id !== 1) return;
      forwarding = new ForwardingPeer(api.multiplayerPeer as WebRTCMultiplayerPeer);
      api.multiplayerPeer = forwarding;
    });
    expect(g.api(1).multiplayerPeer).not.toBeInstanceOf(WebRTCMultiplayerPeer);
    const doors = g.apis.map(registerDoor);
    const gone: number[] = [];
    g.api(1).on('peerDisconnected', (id) => gone.push(id));
    for (let n = 0; n < 3; n++) g.api(3).rpcId(1, '/door', 'lock');
    await g.pollUntil(() => gone.includes(3), 'the violator to be dropped');
    expect(forwarding!.disconnected).toEqual([3]);
    expect(g.api(1).getPeers()).toEqual([2]);
    expect(doors[0]).toEqual([]);
  });
});
