/**
 * A hostile fex server for tests of the client: it greets like a real one, then answers each
 * request with whatever the test says, or not at all. Once it has left a request unanswered it
 * answers nothing more on that connection, as a stuck server would: fex servers answer in request
 * order, and a client may send its goodbye before its request is answered.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Header } from '../../src/protocol/constants.js';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';

/** What to do with one request: frames (and raw bytes) to send back, or nothing. */
export type Answer = (request: Header, socket: Socket) => Array<Header | Buffer> | 'silence';

export interface FakeServer {
  port: number;
  address: string;
  close(): Promise<void>;
}

const GREETING = {
  type: 'ok',
  version: 1,
  server: 'fex',
  limits: { maxFileSize: 1 << 30, maxHeaderBytes: 65536 },
  types: ['dir', 'get', 'hello', 'leave', 'login', 'register', 'store'],
};

export async function fakeServer(
  answers: Record<string, Answer>,
  greeting: Record<string, unknown> = {},
): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    void (async () => {
      const reader = new FrameReader(socket);
      let silent = false;
      for (;;) {
        const request = await reader.next().catch(() => null);
        if (!request) return;
        if (silent) continue;
        const answer =
          request.type === 'hello'
            ? () => [{ ...GREETING, ...greeting }]
            : request.type === 'leave'
              ? () => [{ type: 'ok' }]
              : answers[request.type];
        const frames = answer
          ? answer(request, socket)
          : [{ type: 'error', code: 'E_UNKNOWN_TYPE', message: '?' }];
        if (frames === 'silence') {
          silent = true;
          continue;
        }
        for (const frame of frames)
          socket.write(Buffer.isBuffer(frame) ? frame : encodeHeader({ ...frame, id: request.id }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
