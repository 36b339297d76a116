// @ts-check
/**
 * The headers every answer carries (docs/security.md, "The web plugin"): a Content-Security-Policy
 * that allows no inline script or style and nothing from elsewhere, no sniffing, no framing, no
 * referrer; and the checks that keep another site from making the browser change anything here.
 */
import { sameSecret } from './sessions.js';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** @param {import('node:http').ServerResponse} res */
export function secure(res) {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a request that changes state is refused as cross-site, or undefined when it is fine: it must
 * come from this origin (the browser's `Origin` and `Sec-Fetch-Site`, when it sends them) and
 * carry the session's CSRF token in `X-Fex-CSRF`, a header no form or foreign page can set.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('./sessions.js').Session | undefined} session
 */
export function crossSite(req, session) {
  if (SAFE.has(req.method ?? 'GET')) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    return 'Refused: this request did not come from this page.';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host;
    try {
      host = new URL(origin).host;
    } catch {
      host = '';
    }
    if (host !== req.headers.host) return 'Refused: this request did not come from this page.';
  }
  const token = req.headers['x-fex-csrf'];
  if (!session || typeof token !== 'string' || !sameSecret(token, session.csrf))
    return 'Refused: this page is out of date; reload it.';
  return undefined;
}
