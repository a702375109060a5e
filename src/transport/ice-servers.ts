import { RtcError } from './errors.js';

/**
 * One ICE server in the shape of Godot's `initialize()` dictionary and the W3C `RTCIceServer`:
 * `{urls: "stun:host:port"}` or `{urls: ["turn:host?transport=tcp"], username, credential}`.
 */
export interface IceServerConfig {
  urls: string | readonly string[];
  username?: string;
  credential?: string;
}

/** The schemes of RFC 7064/7065 that an ICE server URL may use. */
export type IceScheme = 'stun' | 'stuns' | 'turn' | 'turns';

/** One ICE server URL, parsed and checked, ready for any backend to translate. */
export interface IceServerUrl {
  scheme: IceScheme;
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  username?: string;
  credential?: string;
}

const DEFAULT_PORT: Record<IceScheme, number> = { stun: 3478, stuns: 5349, turn: 3478, turns: 5349 };
const MAX_URL_LENGTH = 1024;
const MAX_CREDENTIAL_LENGTH = 512;
// scheme ":" host [":" port] ["?transport=" udp|tcp], as RFC 7064 and 7065 write it.
const ICE_URL = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** Parses and checks a list of ICE servers; throws `RtcError` ERR_INVALID_PARAMETER naming the fault. */
export function parseIceServers(servers: readonly IceServerConfig[]): IceServerUrl[] {
  if (!Array.isArray(servers)) {
    throw new RtcError('ERR_INVALID_PARAMETER', 'iceServers must be an array of {urls, username?, credential?}.');
  }
  return servers.flatMap((server) => {
    if (server === null || typeof server !== 'object') {
      throw new RtcError('ERR_INVALID_PARAMETER', 'each ICE server must be an object {urls, username?, credential?}.');
    }
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (!Array.isArray(urls) || urls.length === 0) {
      throw new RtcError('ERR_INVALID_PARAMETER', 'an ICE server needs `urls`: a string or a non-empty array of strings.');
    }
    return urls.map((url: unknown) => parseIceUrl(url, server));
  });
}

function parseIceUrl(url: unknown, server: IceServerConfig): IceServerUrl {
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) {
    throw new RtcError('ERR_INVALID_PARAMETER', `ICE server URL must be a string of at most ${MAX_URL_LENGTH} characters.`);
  }
  const match = ICE_URL.exec(url);
  if (!match) {
    throw new RtcError(
      'ERR_INVALID_PARAMETER',
      `"${url}" is not an ICE server URL; write stun:host[:port] or turn:host[:port][?transport=udp|tcp].`,
    );
  }
  const scheme = match[1] as IceScheme;
  const port = match[3] === undefined ? DEFAULT_PORT[scheme] : Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new RtcError('ERR_INVALID_PARAMETER', `"${url}" has port ${port}; a port is 1 to 65535.`);
  }
  const parsed: IceServerUrl = {
    scheme,
    host: match[2]!.replace(/^\[|\]$/g, ''),
    port,
    transport: (match[4] as 'udp' | 'tcp' | undefined) ?? (scheme === 'turns' || scheme === 'stuns' ? 'tcp' : 'udp'),
  };
  if (scheme === 'turn' || scheme === 'turns') {
    const { username, credential } = server;
    if (typeof username !== 'string' || typeof credential !== 'string') {
      throw new RtcError('ERR_INVALID_PARAMETER', `"${url}" is a TURN server: give it a username and a credential.`);
    }
    if (username.length > MAX_CREDENTIAL_LENGTH || credential.length > MAX_CREDENTIAL_LENGTH) {
      throw new RtcError('ERR_INVALID_PARAMETER', `TURN username and credential are at most ${MAX_CREDENTIAL_LENGTH} characters.`);
    }
    parsed.username = username;
    parsed.credential = credential;
  }
  return parsed;
}
