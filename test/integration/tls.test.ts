/**
 * TLS end to end: `fex serve --tls-cert/--tls-key` with a certificate this test makes, clients
 * on `fexs://` trusting it through FEX_TLS_CA; refusals when the certificate is not trusted or
 * the client speaks plain TCP.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  startServer,
  tempDir,
  uploadedLine,
  type RunningServer,
} from '../helpers/harness.js';
import { makeCertificate } from '../helpers/certificate.js';

describe('TLS', () => {
  let server: RunningServer;
  let files: { cert: string; key: string };
  let secure: string;

  before(async () => {
    files = await makeCertificate(await tempDir());
    server = await startServer({ args: ['--tls-cert', files.cert, '--tls-key', files.key] });
    secure = `fexs://127.0.0.1:${server.port}`;
  });
  after(cleanup);

  it('announces itself as fexs:// when ready', () => {
    assert.match(
      server.output[0] ?? '',
      /^fex server listening on fexs:\/\/127\.0\.0\.1:\d+, storing files in /,
    );
  });

  it('runs the whole workflow over TLS, byte for byte', async () => {
    const user = await makeUser();
    const env = { FEX_TLS_CA: files.cert };
    const data = randomBytes(3 * 1024 * 1024);
    await writeFile(join(user.home, 'Secret.bin'), data);
    const join_ = await user.run(['join', 'fexs://127.0.0.1', String(server.port)], { env });
    assert.equal(
      join_.stdout,
      'Connection to the File Exchange Server is successful!\n',
      join_.stderr,
    );
    assert.equal((await user.run(['register', 'Tls'], { env })).stdout, 'Welcome Tls!\n');
    assert.match(
      (await user.run(['store', 'Secret.bin'], { env })).stdout,
      uploadedLine('Tls', 'Secret.bin'),
    );
    const got = await user.run(['get', 'Secret.bin', '-o', 'copy.bin'], { env });
    assert.equal(got.stdout, 'File received from Server: Secret.bin\n');
    assert.ok((await readFile(join(user.home, 'copy.bin'))).equals(data));
    const dir = await user.run(['dir', '--server', secure, '--handle', 'Tls'], { env });
    assert.equal(dir.stdout, 'Server Directory\nSecret.bin\n');
  });

  it('refuses a certificate it does not trust, saying so', async () => {
    const user = await makeUser();
    const r = await user.run(['join', 'fexs://127.0.0.1', String(server.port)]);
    assert.match(
      r.stderr,
      /^Error: The secure connection to the server failed: .*self[- ]signed certificate.*\n$/,
    );
    assert.equal(r.code, 3);
  });

  it('gives a plain client the connection error, and stays up', async () => {
    const user = await makeUser();
    const r = await user.run(['join', '127.0.0.1', String(server.port)]);
    assert.equal(
      r.stderr,
      'Error: Connection to the Server has failed! Please check IP Address and Port Number.\n',
    );
    assert.equal(r.code, 3);
    const again = await user.run(['dir', '--server', secure, '--handle', 'Again'], {
      env: { FEX_TLS_CA: files.cert },
    });
    assert.equal(again.code, 0, again.stderr);
  });

  it('refuses --tls-cert without --tls-key as a usage error', async () => {
    const user = await makeUser();
    const r = await user.run([
      'serve',
      '--port',
      '0',
      '--dir',
      join(user.home, 'd'),
      '--tls-cert',
      files.cert,
    ]);
    assert.equal(
      r.stderr,
      'Error: Command parameters do not match or is not allowed.\nAll of the following must be provided when using --tls-cert: --tls-key.\n',
    );
    assert.equal(r.code, 2);
  });
});
