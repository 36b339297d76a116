/**
 * How S3Objects words the failures the real AWS SDK raises over real loopback sockets: a store
 * that accepts and never answers (the socket's idle bound) and a port nothing listens on are out
 * of reach (E_UNAVAILABLE, the SDK's reason kept as the error's cause for the log); keys the real
 * Swift refuses are an operator's error (E_INTERNAL, in words that say so). The binary's side of
 * it (exit statuses, log lines, recovery) is test/integration/s3-outage.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { FexError } from '../../src/shared/errors.js';
import { S3Objects } from '../../src/server/storage/s3-objects.js';
import { S3_TEST_ACCOUNT } from '../helpers/services.js';
import { services } from '../helpers/s3-services.js';

const AWAY = 'The server cannot reach its object store. Please try again in a moment.';

function clientOf(endpoint: string, secretAccessKey = 'not-the-secret'): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 2,
    credentials: { accessKeyId: S3_TEST_ACCOUNT.accessKeyId, secretAccessKey },
    requestHandler: { connectionTimeout: 300, socketTimeout: 300 },
  });
}

/** A listening port that takes connections and never says a word. */
async function silent(): Promise<{ server: Server; port: number }> {
  const held = new Set<Socket>();
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  return { server, port: (server.address() as { port: number }).port };
}

function failsWith(code: string, message: string | RegExp, cause: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof FexError, String(error));
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.match(String(error.cause), cause);
    // The SDK's words stay in the server: the frame carries only the details.
    assert.doesNotMatch(JSON.stringify(error.details), cause);
    return true;
  };
}

describe('S3Objects failures from the real SDK', () => {
  it('calls a store that accepts and never answers unreachable, after the socket idle bound', async () => {
    const { port } = await silent();
    const objects = new S3Objects(clientOf(`http://127.0.0.1:${port}`), 'b');
    await assert.rejects(objects.get('k'), failsWith('E_UNAVAILABLE', AWAY, /TimeoutError/));
  });

  it('calls a refused connection unreachable', async () => {
    const { server, port } = await silent();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const objects = new S3Objects(clientOf(`http://127.0.0.1:${port}`), 'b');
    await assert.rejects(
      objects.put('k', Buffer.from('x')),
      failsWith('E_UNAVAILABLE', AWAY, /ECONNREFUSED/),
    );
  });

  const found = services('FEX_TEST_S3_ENDPOINT');
  if (found)
    it('says keys the store refuses are for the operator to correct', async () => {
      const objects = new S3Objects(clientOf(found.FEX_TEST_S3_ENDPOINT), 'any-bucket');
      await assert.rejects(
        objects.put('k', Buffer.from('x')),
        failsWith(
          'E_INTERNAL',
          "The server failed to handle the request: its object store refused the server's keys; the server's operator must correct the keys or the bucket's permissions",
          /SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/,
        ),
      );
    });
});
