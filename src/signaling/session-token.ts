// Session tokens of the signaling server: what a member presents to take its peer id back after
// its link or its process was lost. An HMAC-SHA256 over the claims, with a secret that several
// server nodes may share, so any of them can check a token another issued.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_PEER_ID } from './protocol.js';

/** What a token says: the seat it names, which issue of it, and until when it holds. */
export interface TokenClaims {
  lobby: string;
  peerId: number;
  /** Counts the tokens issued for the seat: only the latest is accepted, so each is single-use. */
  generation: number;
  /** Milliseconds since the Unix epoch after which the token is refused. */
  expiresAt: number;
}

/** The result of {@link SessionTokens.verify}: the claims, or why the token is refused. */
export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

const VERSION = 'v1';
// v1.<lobby>.<peerId>.<generation>.<expiresAt>.<mac>: a lobby name is at most 64 characters.
const TOKEN_PATTERN = /^v1\.([A-Za-z0-9_-]{1,64})\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,15})\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/;
/** Longer than any token the server issues: a frame field over it is refused unread. */
export const MAX_TOKEN_LENGTH = 160;
const SECRET_BYTES = 32;

/** Issues and checks session tokens with one secret. */
export class SessionTokens {
  private readonly secret: Buffer;

  /** @param secret shared by every node that must accept the others' tokens; random when omitted. */
  constructor(secret?: string) {
    this.secret = secret === undefined ? randomBytes(SECRET_BYTES) : Buffer.from(secret, 'utf8');
  }

  /** A token carrying `claims`. */
  issue(claims: TokenClaims): string {
    const body = `${VERSION}.${claims.lobby}.${claims.peerId}.${claims.generation}.${claims.expiresAt}`;
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a token this secret signed and that has not expired at `now`; else the reason. */
  verify(token: string, now: number): TokenCheck {
    const parts = token.length <= MAX_TOKEN_LENGTH ? TOKEN_PATTERN.exec(token) : null;
    if (parts === null) return { ok: false, reason: 'malformed session token' };
    const [, lobby = '', peer = '', generation = '', expiresAt = '', mac = ''] = parts;
    const body = `${VERSION}.${lobby}.${peer}.${generation}.${expiresAt}`;
    if (!timingSafeEqual(Buffer.from(mac, 'base64url'), this.mac(body))) return { ok: false, reason: 'forged session token' };
    const claims = { lobby, peerId: Number(peer), generation: Number(generation), expiresAt: Number(expiresAt) };
    if (claims.peerId > MAX_PEER_ID) return { ok: false, reason: 'malformed session token' };
    if (claims.expiresAt <= now) return { ok: false, reason: 'expired session token' };
    return { ok: true, claims };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }
}
