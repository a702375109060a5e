/**
 * The names of Godot's `Error` enum that rtcmesh reports. A caller's mistake throws an
 * {@link RtcError} carrying one of these, so a Godot developer reads the failure as in Godot.
 */
export type GodotErrorName =
  | 'FAILED'
  | 'ERR_UNAVAILABLE'
  | 'ERR_UNCONFIGURED'
  | 'ERR_INVALID_PARAMETER'
  | 'ERR_ALREADY_EXISTS'
  | 'ERR_ALREADY_IN_USE'
  | 'ERR_DOES_NOT_EXIST'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_INVALID_DATA'
  | 'ERR_CONNECTION_ERROR'
  | 'ERR_CANT_CONNECT'
  | 'ERR_BUSY'
  | 'ERR_TIMEOUT'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_PARSE_ERROR'
  | 'ERR_BUG';

/**
 * Thrown for misuse by the caller: a bad argument or a call in the wrong state. `code` is the
 * Godot `Error` name; the message says what to do instead. Conditions of the network never throw.
 */
export class RtcError extends Error {
  override readonly name = 'RtcError';

  constructor(
    readonly code: GodotErrorName,
    message: string,
  ) {
    super(message);
  }
}
