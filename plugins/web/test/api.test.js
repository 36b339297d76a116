// @ts-check
// The web plugin's HTTP side, without a browser: its security headers, cross-site refusals,
// session cookie, downloads, and the server's connection limits and timeouts on its port.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, newUser } from 'fex/testing';
import { startWeb } from './support.js';

after(cleanup);

/** A browser-like visitor: its cookie and CSRF token. @param {string} base */
function visitor(base) {
  let cookie = '';
  let csrf = '';
  /** @param {string} path @param {RequestInit & { headers?: Record<string, string> }} [init] */
  const call = async (path, init = {}) => {
    const response = await fetch(new URL(path, base), {
      ...init,
      headers: { ...(cookie && { cookie }), ...init.headers },
    });
    const set = response.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0] ?? '';
    return response;
  };
  return {
    call,
    get cookie() {
      return cookie;
    },
    async start() {
      const answer = await (await call('/api/session')).json();
      csrf = answer.csrf;
      return answer;
    },
    /** @param {string} path @param {unknown} body @param {Record<string, string>} [headers] */
    post(path, body, headers = {}) {
      return call(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'x-fex-csrf': csrf, ...headers },
      });
    },
  };
}

describe('the web plugin over HTTP', () => {
  /** @type {Awaited<ReturnType<typeof startWeb>>} */
  let web;
  /** @type {ReturnType<typeof visitor>} */
  let ann;
  /** @type {import('fex/testing').TestUser} */
  let bob;
  /** @type {string[]} */
  let asBob;
  let annCredential = '';

  before(async () => {
    web = await startWeb();
    ann = visitor(web.url);
    bob = await newUser();
    asBob = ['--server', web.server.address, '--handle', 'Bob'];
  });

  it('serves the page with a CSP that allows no inline script, and no sniffing', async () => {
    const page = await fetch(web.url);
    const csp = String(page.headers.get('content-security-policy'));
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    // Every script is a file of this origin; no inline script or style, no event attribute.
    assert.deepEqual(html.match(/<script[^>]*>/g), ['<script type="module" src="/app.js">']);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    assert.doesNotMatch(html, /https?:\/\//);
  });

  it('keeps the session in an HttpOnly, SameSite=Strict cookie, renewed at sign-in', async () => {
    const response = await ann.call('/api/session');
    const set = String(response.headers.get('set-cookie'));
    assert.match(set, /^fex-session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/);
    const before = ann.cookie;
    await ann.start();
    const claimed = await ann.post('/api/claim', { handle: 'Ann' });
    assert.equal(claimed.status, 200);
    const { credential, handle } = await claimed.json();
    annCredential = credential;
    assert.equal(handle, 'Ann');
    const renewed = String(claimed.headers.get('set-cookie'));
    assert.doesNotMatch(renewed, new RegExp(credential));
    assert.notEqual(ann.cookie, before);
    // The old id is worth nothing now.
    const stale = await fetch(new URL('/api/files', web.url), { headers: { cookie: before } });
    assert.equal(stale.status, 401);
    // Nor is the credential in the server's log.
    assert.ok(!web.server.log.some((line) => line.includes(credential)));
    await ann.start();
  });

  it('signs in again with the credential; a wrong one is refused in the CLI’s words', async () => {
    const again = visitor(web.url);
    await again.start();
    const wrong = await again.post('/api/login', { handle: 'Ann', credential: 'x'.repeat(43) });
    assert.equal(wrong.status, 403);
    assert.equal(
      (await wrong.json()).error.message,
      'Login failed. The credential for Ann is not valid on this server.',
    );
    const right = await again.post('/api/login', { handle: 'ann', credential: annCredential });
    assert.equal(right.status, 200);
    assert.equal((await right.json()).handle, 'Ann');
    assert.equal((await again.call('/api/files')).status, 200);
  });

  it('refuses a state-changing request without the CSRF token or from another site', async () => {
    const eve = visitor(web.url);
    await eve.start();
    const without = await eve.call('/api/claim', {
      method: 'POST',
      body: '{"handle":"Eve"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(without.status, 403);
    const foreign = await eve.post('/api/claim', { handle: 'Eve' }, { origin: 'http://evil.test' });
    assert.equal(foreign.status, 403);
    assert.equal(
      (await foreign.json()).error.message,
      'Refused: this request did not come from this page.',
    );
    const crossSite = await eve.post(
      '/api/claim',
      { handle: 'Eve' },
      { 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(crossSite.status, 403);
    const upload = await ann.call('/api/uploads', {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': '1' },
    });
    assert.equal(upload.status, 403);
    // None of them claimed Eve: the real claim still can.
    assert.equal((await eve.post('/api/claim', { handle: 'Eve' })).status, 200);
  });

  it('serves downloads as attachments, never sniffed, hostile names included', async () => {
    const name = '<img src=x onerror=alert(1)>.html';
    await writeFile(join(bob.home, name), '<script>alert(1)</script>');
    assert.equal((await bob.run(['store', name, ...asBob])).code, 0);
    const response = await ann.call(`/api/files/${encodeURIComponent(name)}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    );
    assert.equal(await response.text(), '<script>alert(1)</script>');
  });

  it('answers Range requests, so a browser resumes a cut download', async () => {
    await writeFile(join(bob.home, 'Digits.txt'), '0123456789');
    assert.equal((await bob.run(['store', 'Digits.txt', ...asBob])).code, 0);
    /** @param {Record<string, string>} headers */
    const get = (headers) => ann.call('/api/files/Digits.txt', { headers });
    const part = await get({ range: 'bytes=2-4' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 2-4/10');
    assert.equal(await part.text(), '234');
    const tail = await get({ range: 'bytes=7-' });
    assert.equal(await tail.text(), '789');
    const suffix = await get({ range: 'bytes=-2' });
    assert.equal(await suffix.text(), '89');
    const etag = String(tail.headers.get('etag'));
    assert.equal((await get({ range: 'bytes=7-', 'if-range': etag })).status, 206);
    const changed = await get({ range: 'bytes=7-', 'if-range': '"0000"' });
    assert.equal(changed.status, 200);
    assert.equal(await changed.text(), '0123456789');
    const beyond = await get({ range: 'bytes=20-' });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), 'bytes */10');
  });

  it('answers a refusal with the CLI’s words', async () => {
    const response = await ann.call('/api/files/Nothing.txt');
    assert.equal(response.status, 404);
    const got = await bob.run(['get', 'Nothing.txt', ...asBob]);
    assert.equal((await response.json()).error.message, got.stderr.split('\n')[0]?.slice(7));
  });
});

describe('the web plugin’s port under the server’s limits', () => {
  it('turns away connections over the per-address limit in the CLI’s words', async () => {
    const web = await startWeb({ limits: { maxConnectionsPerAddress: 2 } });
    const { port } = new URL(web.url);
    const held = [connect(Number(port)), connect(Number(port))];
    await Promise.all(held.map((socket) => once(socket, 'connect')));
    const third = connect(Number(port));
    let answer = '';
    third.on('data', (chunk) => (answer += chunk));
    await once(third, 'close');
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.match(answer, /\r\n\r\nThe server is full\. Please try again later\.$/);
    for (const socket of held) socket.destroy();
  });

  it('cuts off a request whose headers take longer than headerTimeout', async () => {
    const web = await startWeb({ limits: { headerTimeout: 1, transferTimeout: 600 } });
    const slow = connect(Number(new URL(web.url).port));
    await once(slow, 'connect');
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    let answer = '';
    slow.on('data', (chunk) => (answer += chunk));
    await once(slow, 'close');
    assert.doesNotMatch(answer, /200 OK/);
  });

  it('counts its fex connections against maxConnections', async () => {
    const web = await startWeb({ limits: { maxConnections: 1 } });
    const page = visitor(web.url);
    await page.start();
    // The one connection the server allows, taken by a TCP client.
    const tcp = connect(web.server.port, '127.0.0.1');
    // Served once it answers: any frame gets an answer (here: send hello first).
    const frame = Buffer.from(JSON.stringify({ type: 'dir', id: 1 }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(frame.length);
    tcp.write(Buffer.concat([length, frame]));
    await once(tcp, 'data');
    const refused = await page.post('/api/claim', { handle: 'Late' });
    assert.equal(refused.status, 503);
    assert.equal(
      (await refused.json()).error.message,
      'The server is full. Please try again later.',
    );
    tcp.destroy();
  });
});
