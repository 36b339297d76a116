#!/usr/bin/env node
/**
 * The Node pipe the large-file target is measured against: file -> TCP -> file with fsync,
 * nothing else (no framing, no checksum, no rename). Four roles, mirroring fex's store and get:
 *
 *   recv-server PORT OUT [BUF [sha256]]   listen, receive one file into OUT, fsync, send a 1-byte
 *                                          ack, exit
 *   send-client PORT FILE [BUF [sha256]]  connect, send FILE, half-close, wait for the ack
 *                                          (= "stored")
 *   send-server PORT FILE [BUF]  listen, send FILE to the first client, exit
 *   recv-client PORT OUT [BUF]   connect, receive into OUT until the server closes, fsync, exit
 *
 * BUF (bytes) is the `highWaterMark` of the file streams and of the socket. Without it the
 * streams keep Node's defaults (64 KiB reads, a 16 KiB WriteStream buffer, 16 KiB socket), the
 * "bare pipe" of issue 5, kept as history. With 1 MiB (the tuned pipe of issue 16) the receiver
 * writes through `writev` of up to 1 MiB and pauses the socket about 30 times less often. The
 * kernel's socket buffers are not Node's to set for TCP (there is no SO_RCVBUF/SO_SNDBUF API);
 * on loopback Linux autotunes them up to `net.ipv4.tcp_rmem`/`tcp_wmem`'s maximum, which the
 * bench records beside the results.
 *
 * With `sha256` (the two store roles: the hashing pipe, beside issue 16's store target)
 * each end hashes the bytes inline as they pass, and the ack is the receiver's SHA-256 (32 bytes),
 * sent once the file is flushed, which the sender compares with its own: the work a store
 * verified on both ends must do, and nothing else fex does.
 *
 * A server role prints `ready PORT` once it listens (PORT 0 picks a free one). Every role prints
 * one JSON line at the end with its byte count and peak RSS. Only 127.0.0.1 is ever used.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pipeline } from 'node:stream/promises';

const HOST = '127.0.0.1';
const [role, portText, path, bufText, hashText] = process.argv.slice(2);
const port = Number(portText);
const buffers = bufText ? { highWaterMark: Number(bufText) } : {};
const hash = hashText === 'sha256' ? createHash('sha256') : null;
if (hashText !== undefined && !hash) throw new Error(`unknown hash: ${hashText}`);

/**
 * When hashing, every chunk a stream hands on also goes into the hash. A second 'data' listener
 * beside the pipe, not an async generator in the pipeline: on Node 22.12 a pipeline of a
 * generator into the socket with `end: false` destroyed the socket before the ack came back.
 */
function hashed(stream) {
  if (hash) stream.on('data', (chunk) => hash.update(chunk));
  return stream;
}

function done(bytes) {
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  process.stdout.write(`${JSON.stringify({ role, bytes, maxRssKiB: usage.maxRSS, cpuMs })}\n`);
}

async function receiveInto(socket, out) {
  const fd = openSync(out, 'w', 0o644);
  await pipeline(hashed(socket), createWriteStream(null, { fd, autoClose: false, ...buffers }));
  fsyncSync(fd);
  closeSync(fd);
  return socket.bytesRead;
}

function listenOnce(onSocket) {
  const server = createServer({ allowHalfOpen: true, ...buffers }, (socket) => {
    server.close();
    onSocket(socket).then(
      (bytes) => done(bytes),
      (error) => {
        console.error(String(error));
        process.exitCode = 1;
      },
    );
  });
  server.listen(port, HOST, () => process.stdout.write(`ready ${server.address().port}\n`));
}

function connectTo() {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, allowHalfOpen: true, ...buffers }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

switch (role) {
  case 'recv-server':
    listenOnce(async (socket) => {
      const bytes = await receiveInto(socket, path);
      const ack = hash ? hash.digest() : Buffer.from([1]);
      await new Promise((resolve) => socket.end(ack, resolve));
      return bytes;
    });
    break;
  case 'send-server':
    listenOnce(async (socket) => {
      await pipeline(createReadStream(path, buffers), socket);
      return socket.bytesWritten;
    });
    break;
  case 'send-client': {
    const socket = await connectTo();
    // The ack is read whole: the receiver ends its side right after it.
    const ack = (async () => {
      const chunks = [];
      for await (const chunk of socket) chunks.push(chunk);
      if (chunks.length === 0) throw new Error('closed without an ack');
      return Buffer.concat(chunks);
    })();
    // `end: false` keeps the socket readable for the ack; end() then half-closes our side.
    await pipeline(hashed(createReadStream(path, buffers)), socket, { end: false });
    socket.end();
    const answer = await ack;
    if (hash && !answer.equals(hash.digest())) throw new Error('SHA-256 differs between the ends');
    socket.destroy();
    done(socket.bytesWritten);
    break;
  }
  case 'recv-client': {
    const socket = await connectTo();
    done(await receiveInto(socket, path));
    break;
  }
  default:
    console.error(
      'usage: pipe-baseline.mjs recv-server|send-client|send-server|recv-client PORT PATH [BUF]',
    );
    process.exitCode = 2;
}
