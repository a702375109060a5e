// The client's TURN credentials, handed by the server with its ID: added to the ICE servers of
// every connection made while they are valid, and asked for again before they expire (the TURN
// server checks expiry when a connection allocates a relay; connections made earlier keep theirs).
// Browser-safe.
import { type PeerConnectionConfig, RtcError } from '../transport/index.js';
import { parseIceServers } from '../transport/ice-servers.js';
import type { TurnCredentials } from './protocol.js';

const MS_PER_SECOND = 1000;
// Asked again at half their remaining validity; and, while no answer comes, every so often.
const REFRESH_FRACTION = 0.5;
const MIN_REFRESH_MS = 1000;
const REFRESH_RETRY_MS = 5000;

/** The credentials in force and when to ask for fresh ones. */
export class TurnGrant {
  private credentials: TurnCredentials | null = null;
  private refreshAt = Number.POSITIVE_INFINITY;

  /** Takes credentials from the server; false, keeping the previous ones, when no connection could use them. */
  take(credentials: TurnCredentials, now: number): boolean {
    const expiry = Number(credentials.username.split(':', 1)[0]);
    try {
      parseIceServers([credentials]);
    } catch (error) {
      if (error instanceof RtcError) return false;
      throw error;
    }
    if (!Number.isSafeInteger(expiry)) return false;
    this.credentials = credentials;
    this.refreshAt = now + Math.max(MIN_REFRESH_MS, (expiry * MS_PER_SECOND - now) * REFRESH_FRACTION);
    return true;
  }

  /** Whether the credentials are due for a refresh at `now`; if so, the next one is due a while later. */
  due(now: number): boolean {
    if (now < this.refreshAt) return false;
    this.refreshAt = now + REFRESH_RETRY_MS;
    return true;
  }

  /** Whether credentials are in force. */
  get active(): boolean {
    return this.credentials !== null;
  }

  /** `config` with the TURN server added to its ICE servers, when there are credentials. */
  apply(config: PeerConnectionConfig): PeerConnectionConfig {
    const { credentials } = this;
    if (credentials === null) return config;
    return { ...config, iceServers: [...(config.iceServers ?? []), credentials] };
  }
}
