// The web plugin serves HTTPS with the server's own certificate when the server has
// --tls-cert/--tls-key, and its session cookie is then Secure and __Host- prefixed.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { makeCertificate } from '../helpers/certificate.js';
import { cleanup, ROOT, startServer, tempDir } from '../helpers/harness.js';

after(cleanup);

function get(url: URL, ca: string): Promise<{ status: number; cookie: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          cookie: String(response.headers['set-cookie']?.[0]),
          body,
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

it('serves the page over HTTPS with the server’s certificate', async () => {
  const dir = await tempDir();
  const { cert, key } = await makeCertificate(dir);
  const config = join(dir, 'fex.config.json');
  const plugin = { module: join(ROOT, 'plugins', 'web'), options: { port: 0 } };
  await writeFile(config, JSON.stringify({ plugins: [plugin] }));
  const server = await startServer({
    args: ['--tls-cert', cert, '--tls-key', key, '--config', config],
  });
  const line = await server.waitForLine(/web page at /);
  const url = /web page at (\S+)/.exec(line)?.[1] ?? '';
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const ca = await readFile(cert, 'utf8');
  const page = await get(new URL(url), ca);
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>fex<\/title>/);
  const session = await get(new URL('/api/session', url), ca);
  assert.match(
    session.cookie,
    /^__Host-fex-session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
  );
});
