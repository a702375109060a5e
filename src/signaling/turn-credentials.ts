// Credentials of the TURN REST API, which coturn checks with `use-auth-secret` and
// `static-auth-secret`: a username naming its expiry, and an HMAC-SHA1 of it with the shared secret.
import { createHmac } from 'node:crypto';
import type { TurnCredentials } from './protocol.js';

const MS_PER_SECOND = 1000;

/** What the server needs to issue TURN credentials. */
export interface TurnSettings {
  secret: string;
  urls: string[];
  /** Seconds each set of credentials is valid. */
  ttlSeconds: number;
}

/** Credentials for `peerId`, valid `ttlSeconds` from `now` (milliseconds since the Unix epoch). */
export function turnCredentials(settings: TurnSettings, peerId: number, now: number): TurnCredentials {
  const expiry = Math.floor(now / MS_PER_SECOND) + settings.ttlSeconds;
  const username = `${expiry}:${peerId}`;
  const credential = createHmac('sha1', settings.secret).update(username).digest('base64');
  return { urls: [...settings.urls], username, credential };
}
