// @ts-check
/**
 * Browser sessions: a random id in an HttpOnly, SameSite=Strict cookie, mapped in memory to the
 * handle, its credential and a CSRF token. The credential never leaves the server again after the
 * claim's answer: not in a cookie the page can read, not in a URL, not in a log.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Anonymous sessions kept at most (a visitor who never claims a handle); the oldest go first. */
const MAX_ANONYMOUS = 10_000;

/**
 * @typedef {object} Session
 * @property {string} id
 * @property {string} csrf
 * @property {string} [handle]
 * @property {string} [credential]
 * @property {Promise<import('fex').InProcessConnection> | undefined} [connection]
 * @property {Set<import('node:http').ServerResponse>} streams  the page's event streams
 */

const token = () => randomBytes(32).toString('base64url');

/** @param {string} a @param {string} b */
export function sameSecret(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  /** @type {Map<string, Session>} */
  #sessions = new Map();

  /** @param {boolean} secure HTTPS: the cookie is Secure and `__Host-` prefixed */
  constructor(secure) {
    this.secure = secure;
    this.cookieName = secure ? '__Host-fex-session' : 'fex-session';
  }

  /** @param {import('node:http').IncomingMessage} req */
  find(req) {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === this.cookieName && value) return this.#sessions.get(value);
    }
    return undefined;
  }

  /** A new session (a fresh id after every sign-in, so an id seen before it is worth nothing). */
  create() {
    /** @type {Session} */
    const session = { id: token(), csrf: token(), streams: new Set() };
    this.#sessions.set(session.id, session);
    this.#trim();
    return session;
  }

  /** @param {Session} session */
  drop(session) {
    this.#sessions.delete(session.id);
  }

  /** @param {Session} session */
  cookie(session) {
    const flags = `Path=/; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`;
    return `${this.cookieName}=${session.id}; ${flags}`;
  }

  expiredCookie() {
    return `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`;
  }

  /** Every session signed in as `handle`. */
  *signedIn() {
    for (const session of this.#sessions.values()) if (session.handle) yield session;
  }

  #trim() {
    let anonymous = 0;
    for (const session of this.#sessions.values()) if (!session.handle) anonymous++;
    for (const session of this.#sessions.values()) {
      if (anonymous <= MAX_ANONYMOUS) break;
      if (session.handle) continue;
      this.#sessions.delete(session.id);
      anonymous--;
    }
  }
}
