// A vitest setup file: with RTCMESH_BACKEND=w3c, every PeerConnection of the test file runs on the
// W3C backend over node-datachannel's polyfill instead of the node-datachannel backend, so that
// the transport and mesh suites check that both backends behave alike (the `w3c-polyfill` project
// of vitest.config.ts). Without it, nothing changes.
import nodeDataChannel from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
// Imported first: the Node entry sets its own default backend when it is evaluated.
import { type Backend, PeerConnection } from '../../src/index.js';
import { type RTCPeerConnectionConstructor, createW3CBackend } from '../../src/transport/backends/w3c.js';

/** The W3C backend over node-datachannel's polyfill, configured as the tests need it. */
export function createPolyfillBackend(): Backend {
  // The polyfill declares its own event classes, which TypeScript cannot match with the DOM ones.
  const w3c = createW3CBackend(RTCPeerConnection as unknown as RTCPeerConnectionConstructor, {
    // The polyfill hands its configuration on to node-datachannel, which reads these fields too;
    // without bindAddress, ICE would offer every interface of the machine.
    configure: (configuration, config) => ({
      ...configuration,
      maxMessageSize: config.maxMessageSize,
      ...(config.bindAddress !== undefined && { bindAddress: config.bindAddress }),
      ...(config.portRange && { portRangeBegin: config.portRange.begin, portRangeEnd: config.portRange.end }),
    }),
    // libdatachannel's DTLS race, which the node-datachannel backend avoids the same way.
    holdOfferCandidates: true,
    // libdatachannel sends every channel from one queue: keepalives must not wait behind 1 MiB.
    reliableQueueBytes: 64 * 1024,
  });
  // The polyfill runs on libdatachannel's threads: tests release them as with the default backend.
  return { ...w3c, cleanup: () => nodeDataChannel.cleanup() };
}

if (process.env.RTCMESH_BACKEND === 'w3c') PeerConnection.setDefaultBackend(createPolyfillBackend());
