/**
 * A bare protocol client for tests that must send what the real client never would: malformed
 * frames, requests out of order, uploads cut short.
 */
import { connect, type Socket } from 'node:net';
import type { Header } from '../../src/protocol/constants.js';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';

export interface RawClient {
  socket: Socket;
  reader: FrameReader;
  send(header: Header, body?: Buffer): void;
  sendBytes(bytes: Buffer): void;
  /** The next frame that is not an event; null when the server closed the connection. */
  next(): Promise<Header | null>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  close(): void;
}

/** `localAddress`: the loopback address to connect from (127.0.0.2...), to be another client. */
export async function rawConnect(
  port: number,
  options: { localAddress?: string } = {},
): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const reader = new FrameReader(socket);
  return {
    socket,
    reader,
    closed,
    send(header, body) {
      socket.write(encodeHeader(body ? { ...header, body: body.length } : header));
      if (body) socket.write(body);
    },
    sendBytes(bytes) {
      socket.write(bytes);
    },
    async next() {
      for (;;) {
        const header = await reader.next().catch(() => null);
        if (!header || header.type !== 'event') return header;
      }
    },
    close() {
      socket.destroy();
    },
  };
}

/** Connects and says hello; optionally registers a handle. */
export async function greeted(
  port: number,
  handle?: string,
  options: { localAddress?: string } = {},
): Promise<RawClient> {
  const client = await rawConnect(port, options);
  client.send({ type: 'hello', id: 1, version: 1 });
  const hello = await client.next();
  if (hello?.type !== 'ok') throw new Error(`hello failed: ${JSON.stringify(hello)}`);
  if (handle) {
    client.send({ type: 'register', id: 2, handle });
    const answer = await client.next();
    if (answer?.type !== 'ok') throw new Error(`register failed: ${JSON.stringify(answer)}`);
  }
  return client;
}
