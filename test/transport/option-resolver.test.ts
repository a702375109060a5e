import { afterAll, describe, expect, it } from 'vitest';
import {
  MultiplayerAPI,
  NetworkConditioner,
  PeerConnection,
  SignalingClient,
  SignalingServer,
  TransferMode,
  WebRTCMultiplayerPeer,
  cleanup,
  createMemoryBackend,
} from '../../src/index.js';
import { RtcError } from '../../src/transport/errors.js';
import { BOOLEAN, integerRule, optionDefaults, resolveOptions } from '../../src/transport/option-resolver.js';

afterAll(() => cleanup());

const SPECS = {
  count: { default: 4, rule: integerRule(1, 10) },
  on: { default: false, rule: BOOLEAN, advice: 'true turns it on' },
};

/** The RtcError `action` throws. */
function thrown(action: () => unknown): RtcError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(RtcError);
    return error as RtcError;
  }
  throw new Error('expected an RtcError');
}

describe('the option resolver', () => {
  it('fills in the defaults of the options left out or undefined, and takes the ones given', () => {
    expect(resolveOptions('Things', SPECS, undefined)).toEqual({ count: 4, on: false });
    expect(resolveOptions('Things', SPECS, { count: undefined, on: true })).toEqual({ count: 4, on: true });
    expect(resolveOptions('Things', SPECS, { count: 10, other: 'left alone' })).toEqual({ count: 10, on: false });
    expect(optionDefaults(SPECS)).toEqual({ count: 4, on: false });
    expect(Object.isFrozen(optionDefaults(SPECS))).toBe(true);
  });

  it('names the option, what it must be, what it was and what to do', () => {
    const error = thrown(() => resolveOptions('Things', SPECS, { count: 11 }));
    expect(error.code).toBe('ERR_INVALID_PARAMETER');
    expect(error.message).toBe('Things.count must be an integer from 1 to 10, not 11.');
    expect(thrown(() => resolveOptions('Things', SPECS, { on: 'yes' })).message).toBe('Things.on must be true or false, not "yes": true turns it on.');
    expect(thrown(() => resolveOptions('Things', SPECS, null)).message).toBe('Things must be an object of options, not null.');
    expect(thrown(() => resolveOptions('Things', SPECS, { count: 'x'.repeat(100) })).message.length).toBeLessThan(120);
  });

  // One style for every layer: "Owner.option must be …, not …", ERR_INVALID_PARAMETER.
  it.each([
    ['PeerConnectionConfig', () => new PeerConnection().initialize({ maxMessageSize: 0 }), 'PeerConnectionConfig.maxMessageSize'],
    ['PeerConnectionConfig', () => new PeerConnection().initialize({ iceTransportPolicy: 'none' as 'all' }), 'PeerConnectionConfig.iceTransportPolicy'],
    ['MemoryLinkConditions', () => createMemoryBackend({ conditions: { lossRate: 2 } }), 'MemoryLinkConditions.lossRate'],
    ['MeshOptions', () => new WebRTCMultiplayerPeer({ keepaliveTimeoutMs: -1 }), 'MeshOptions.keepaliveTimeoutMs'],
    ['channelsConfig', () => new WebRTCMultiplayerPeer().createMesh(1, [{ mode: TransferMode.Reliable, weight: 0 }]), 'channelsConfig[0].weight'],
    ['SignalingClientOptions', () => new SignalingClient({ url: 'ws://127.0.0.1:1', maxPeers: 1.5 }), 'SignalingClientOptions.maxPeers'],
    ['SignalingServerOptions', () => new SignalingServer({ port: 70_000 }), 'SignalingServerOptions.port'],
    ['RpcLimits', () => new MultiplayerAPI({ limits: { maxDepth: -1 } }), 'RpcLimits.maxDepth'],
    ['MultiplayerAPIOptions', () => new MultiplayerAPI({ maxPathsPerPeer: 0 }), 'MultiplayerAPIOptions.maxPathsPerPeer'],
    ['LinkConditions', () => new NetworkConditioner({ conditions: { loss: 2 } }), 'LinkConditions.loss'],
  ])('%s: a bad option throws ERR_INVALID_PARAMETER in the one style', (_owner, action, option) => {
    const error = thrown(action);
    expect(error.code).toBe('ERR_INVALID_PARAMETER');
    expect(error.message.startsWith(`${option} must be `)).toBe(true);
    expect(error.message).toMatch(/, not .+\.$/);
  });
});
