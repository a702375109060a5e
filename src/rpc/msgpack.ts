// msgpackr as the RPC arguments use it: plain msgpack out, plain values in. Only bytes that
// checkArguments (msgpack-check.ts) passed reach the Unpackr.
import { Packr, Unpackr } from 'msgpackr';
import { invalid } from './errors.js';

/**
 * The Packr of RPC arguments; throws `ERR_INVALID_PARAMETER` on a function. msgpackr's record
 * extension is off in both directions, so the stream is plain msgpack any implementation reads;
 * `moreTypes` sends typed arrays as themselves rather than as bytes.
 */
export const packr = new Packr({
  useRecords: false,
  moreTypes: true,
  // fixmap for small objects: a few bytes less per object, which a network packet feels.
  variableMapSize: true,
  writeFunction: () => {
    throw invalid('RPC arguments cannot hold functions; send the data the function would compute instead');
  },
});

/**
 * The Unpackr of RPC arguments, for bytes the argument check has passed. mapsAsObjects builds
 * plain objects (whose prototype is Object.prototype); the argument check has already refused the
 * keys that could reach a prototype. copyBuffers: a byte-string argument owns its memory, so it
 * neither aliases nor pins the received packet.
 */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
