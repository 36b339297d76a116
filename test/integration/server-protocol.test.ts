/**
 * The real server against a bare protocol client: malformed and out-of-order input gets an error
 * (and, when the stream cannot be resynchronised, a closed connection) while the server stays up
 * for everybody else; an upload cut short leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { asideUploads, cleanup, startServer, type RunningServer } from '../helpers/harness.js';
import { greeted, rawConnect } from '../helpers/raw-client.js';

describe('server protocol handling', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer();
  });
  after(cleanup);

  async function stillServes(): Promise<void> {
    const client = await greeted(server.port);
    client.send({ type: 'leave', id: 9 });
    assert.equal((await client.next())?.type, 'ok');
    client.close();
  }

  it('answers hello with version, limits and the request types served', async () => {
    const client = await rawConnect(server.port);
    client.send({ type: 'hello', id: 1, version: 1 });
    const answer = await client.next();
    assert.equal(answer?.type, 'ok');
    assert.equal(answer?.id, 1);
    assert.equal(answer?.version, 1);
    assert.deepEqual(answer?.types, [
      'delete',
      'dir',
      'get',
      'hello',
      'leave',
      'login',
      'operator-delete',
      'register',
      'rename',
      'store',
    ]);
    assert.equal(typeof (answer?.limits as { maxFileSize: number }).maxFileSize, 'number');
    client.close();
  });

  it('refuses an unsupported protocol version', async () => {
    const client = await rawConnect(server.port);
    client.send({ type: 'hello', id: 1, version: 2 });
    const answer = await client.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_VERSION']);
    client.close();
  });

  it('requires hello first, then a registered handle for files', async () => {
    const client = await rawConnect(server.port);
    client.send({ type: 'dir', id: 1 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'hello', id: 2, version: 1 });
    assert.equal((await client.next())?.type, 'ok');
    for (const [id, request] of [
      [3, { type: 'dir' }],
      [4, { type: 'get', name: 'x' }],
      [5, { type: 'store', name: 'x', size: 1 }],
    ] as const) {
      client.send({ ...request, id });
      const answer = await client.next();
      assert.deepEqual([answer?.id, answer?.code], [id, 'E_NOT_REGISTERED']);
    }
    client.close();
  });

  it('refuses unknown types and bad fields, and keeps the connection', async () => {
    const client = await greeted(server.port, 'Fields');
    client.send({ type: 'chmod', id: 3 });
    assert.equal((await client.next())?.code, 'E_UNKNOWN_TYPE');
    client.send({ type: 'get', id: 4 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'get', id: 5, name: 42 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'get', id: 6, name: 'x', extra: true });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'store', id: 7, name: 'x', size: -1 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'get', id: 8, name: '../../etc/passwd' });
    assert.equal((await client.next())?.code, 'E_BAD_NAME');
    client.send({ type: 'dir', id: 9 }, Buffer.from('an unexpected body is skipped'));
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'dir', id: 10 });
    const listing = await client.next();
    assert.equal(listing?.type, 'ok');
    client.close();
  });

  for (const [label, bytes] of [
    ['a header that is not JSON', Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')])],
    ['a zero-length header', Buffer.from([0, 0, 0, 0])],
    ['a header length over the limit', Buffer.from([0x7f, 0xff, 0xff, 0xff])],
    ['a JSON array header', Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('[]')])],
  ] as const) {
    it(`answers ${label} with E_BAD_FRAME, closes, and stays up`, async () => {
      const client = await rawConnect(server.port);
      client.sendBytes(bytes);
      const answer = await client.next();
      assert.deepEqual([answer?.type, answer?.code], ['error', 'E_BAD_FRAME']);
      await client.closed;
      await stillServes();
    });
  }

  it('keeps nothing of an upload cut short by a vanished client', async () => {
    const client = await greeted(server.port, 'Vanisher');
    client.send({ type: 'store', id: 3, name: 'Partial.bin', size: 1_000_000 });
    assert.equal((await client.next())?.type, 'continue');
    client.sendBytes(Buffer.from([0, 0, 0, 0])); // a frame header would follow; send half a body instead
    client.close();
    await stillServes();
    const names = await readdir(server.dir);
    assert.ok(!names.includes('Partial.bin'));
  });

  it('answers a data frame of the wrong length once, after the commit, and stays in step', async () => {
    const client = await greeted(server.port, 'Miscount');
    client.send({ type: 'store', id: 3, name: 'Miscount.txt', size: 10 });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'data', id: 3 }, Buffer.from('only 7!'));
    client.send({ type: 'commit', id: 3, sha256: createHash('sha256').update('x').digest('hex') });
    const answer = await client.next();
    assert.deepEqual([answer?.id, answer?.code], [3, 'E_BAD_REQUEST']);
    client.send({ type: 'dir', id: 4 });
    const next = await client.next();
    assert.deepEqual([next?.id, next?.type], [4, 'ok'], 'no second answer to request 3');
    client.close();
  });

  it('hangs up on a frame out of sequence inside an upload', async () => {
    const client = await greeted(server.port, 'Jumper');
    client.send({ type: 'store', id: 3, name: 'Jump.txt', size: 10 });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'dir', id: 4 });
    const answer = await client.next();
    assert.deepEqual([answer?.type, answer?.code, answer?.id], ['error', 'E_BAD_FRAME', undefined]);
    await client.closed;
    await stillServes();
  });

  it('hangs up on a request without an id', async () => {
    const client = await greeted(server.port);
    client.send({ type: 'dir' });
    const answer = await client.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_BAD_FRAME']);
    await client.closed;
  });

  it('keeps nothing of an upload whose checksum does not match', async () => {
    const client = await greeted(server.port, 'Liar');
    const asideBefore = await asideUploads(server.dir);
    const body = Buffer.from('twelve bytes');
    client.send({ type: 'store', id: 3, name: 'Liar.txt', size: body.length });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'data', id: 3 }, body);
    client.send({
      type: 'commit',
      id: 3,
      sha256: createHash('sha256').update('other').digest('hex'),
    });
    assert.equal((await client.next())?.code, 'E_CHECKSUM');
    assert.ok(!(await readdir(server.dir)).includes('Liar.txt'));
    // Not even held for a resume: bytes that failed their checksum are worth nothing.
    assert.deepEqual(await asideUploads(server.dir), asideBefore);
    client.send({ type: 'dir', id: 4 });
    assert.equal((await client.next())?.type, 'ok', 'the connection is still in step');
    client.close();
  });

  it('never lists, stores or serves its bookkeeping folder', async () => {
    const client = await greeted(server.port, 'Snoop');
    client.send({ type: 'get', id: 3, name: '.fex' });
    assert.equal((await client.next())?.code, 'E_BAD_NAME');
    client.send({ type: 'store', id: 4, name: '.FEX', size: 1 });
    assert.equal((await client.next())?.code, 'E_BAD_NAME');
    client.send({ type: 'dir', id: 5 });
    const listing = await client.next();
    let text = '';
    for await (const chunk of client.reader.body()) text += chunk.toString();
    assert.equal(listing?.type, 'ok');
    assert.ok(!text.includes('.fex'));
    client.close();
  });

  it('refuses names with invisible characters, which would display as another name', async () => {
    const client = await greeted(server.port, 'Lookalike');
    const invisible = [0x2060, 0xad, 0x180e, 0x34f, 0xfe0f, 0x3164, 0xfff9, 0xe0000, 0xe0041];
    const codes = [...invisible, 0xe007f, 0x2028, 0x2029, 0x61c];
    let id = 3;
    for (const code of codes) {
      const name = `report${String.fromCodePoint(code)}.pdf`;
      client.send({ type: 'store', id: id++, name, size: 1 });
      const answer = await client.next();
      assert.equal(answer?.code, 'E_BAD_NAME', `U+${code.toString(16)}: ${JSON.stringify(answer)}`);
    }
    const names = (await readdir(server.dir)).filter((n) => n.startsWith('report'));
    assert.deepEqual(names, []);
    client.close();
  });

  it('tells the other registered clients about an upload', async () => {
    const watcher = await greeted(server.port, 'Watcher');
    const uploader = await greeted(server.port, 'Uploader');
    const body = Buffer.from('news');
    uploader.send({ type: 'store', id: 3, name: 'News.txt', size: body.length });
    assert.equal((await uploader.next())?.type, 'continue');
    uploader.send({ type: 'data', id: 3 }, body);
    uploader.send({
      type: 'commit',
      id: 3,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    assert.equal((await uploader.next())?.type, 'ok');
    const event = await watcher.reader.next();
    assert.deepEqual(
      [event?.type, event?.event, event?.handle, event?.name, event?.size],
      ['event', 'uploaded', 'Uploader', 'News.txt', 4],
    );
    watcher.close();
    uploader.close();
  });
});

describe('server limits', () => {
  after(cleanup);

  it('turns away a client over --max-connections with E_BUSY', async () => {
    const server = await startServer({ args: ['--max-connections', '1'] });
    const first = await greeted(server.port);
    const second = await rawConnect(server.port);
    const answer = await second.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_BUSY']);
    // The server's log says so too, on one line (at a bounded rate: a flood costs a few lines).
    assert.match(
      await server.waitForLine(/turned away \(E_BUSY\)/),
      /turned away \(E_BUSY\): 127\.0\.0\.1 \(the server is full, 1 connections\)/,
    );
    await second.closed;
    first.close();
  });

  it('stops promptly even with a turned-away client that never hangs up', async () => {
    const server = await startServer({ args: ['--max-connections', '1'] });
    const first = await greeted(server.port);
    const stubborn = await rawConnect(server.port);
    stubborn.send({ type: 'hello', id: 1, version: 1 });
    assert.equal((await stubborn.next())?.code, 'E_BUSY');
    assert.equal(await server.stop('SIGTERM'), 0);
    first.close();
    stubborn.close();
  });

  it('lets an upload in flight finish on SIGTERM, then says goodbye and exits 0', async () => {
    const server = await startServer();
    const client = await greeted(server.port, 'Finisher');
    const body = Buffer.alloc(256 * 1024, 7);
    client.send({ type: 'store', id: 3, name: 'Late.bin', size: body.length });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'data', id: 3, body: body.length });
    client.sendBytes(body.subarray(0, 1000));
    const exited = server.stop('SIGTERM');
    await server.waitForLine(/SIGTERM: stopping/);
    client.sendBytes(body.subarray(1000));
    client.send({ type: 'commit', id: 3, sha256: createHash('sha256').update(body).digest('hex') });
    assert.equal((await client.next())?.type, 'ok');
    const closing = await client.reader.next();
    assert.deepEqual([closing?.event, closing?.code], ['closing', 'E_SHUTTING_DOWN']);
    assert.equal(await exited, 0);
    assert.ok((await readFile(join(server.dir, 'Late.bin'))).equals(body));
  });

  it('stops cleanly on SIGTERM with exit status 0, telling clients', async () => {
    const server = await startServer();
    const client = await greeted(server.port, 'Leftover');
    const closing = client.reader.next();
    assert.equal(await server.stop('SIGTERM'), 0);
    const event = await closing;
    assert.deepEqual([event?.event, event?.code], ['closing', 'E_SHUTTING_DOWN']);
  });
});
