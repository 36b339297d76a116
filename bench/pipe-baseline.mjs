#!/usr/bin/env node
/**
 * The bare Node pipe the large-file target is measured against: file -> TCP -> file with fsync,
 * nothing else (no framing, no checksum, no rename). Four roles, mirroring fex's store and get:
 *
 *   recv-server PORT OUT   listen, receive one file into OUT, fsync, send a 1-byte ack, exit
 *   send-client PORT FILE  connect, send FILE, half-close, wait for the ack (= "stored"), exit
 *   send-server PORT FILE  listen, send FILE to the first client, exit
 *   recv-client PORT OUT   connect, receive into OUT until the server closes, fsync, exit
 *
 * A server role prints `ready PORT` once it listens (PORT 0 picks a free one). Every role prints
 * one JSON line at the end with its byte count and peak RSS. Only 127.0.0.1 is ever used.
 */
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pipeline } from 'node:stream/promises';

const HOST = '127.0.0.1';
const [role, portText, path] = process.argv.slice(2);
const port = Number(portText);

function done(bytes) {
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  process.stdout.write(`${JSON.stringify({ role, bytes, maxRssKiB: usage.maxRSS, cpuMs })}\n`);
}

async function receiveInto(socket, out) {
  const fd = openSync(out, 'w', 0o644);
  await pipeline(socket, createWriteStream(null, { fd, autoClose: false }));
  fsyncSync(fd);
  closeSync(fd);
  return socket.bytesRead;
}

function listenOnce(onSocket) {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
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
    const socket = connect({ host: HOST, port, allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

switch (role) {
  case 'recv-server':
    listenOnce(async (socket) => {
      const bytes = await receiveInto(socket, path);
      await new Promise((resolve) => socket.end(Buffer.from([1]), resolve));
      return bytes;
    });
    break;
  case 'send-server':
    listenOnce(async (socket) => {
      await pipeline(createReadStream(path), socket);
      return socket.bytesWritten;
    });
    break;
  case 'send-client': {
    const socket = await connectTo();
    const ack = new Promise((resolve, reject) => {
      socket.once('data', resolve);
      socket.once('end', () => reject(new Error('closed without an ack')));
    });
    // `end: false` keeps the socket readable for the ack; end() then half-closes our side.
    await pipeline(createReadStream(path), socket, { end: false });
    socket.end();
    await ack;
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
      'usage: pipe-baseline.mjs recv-server|send-client|send-server|recv-client PORT PATH',
    );
    process.exitCode = 2;
}
