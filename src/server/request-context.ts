/**
 * The RequestContext a handler gets: its answers sent in request order, its body and follow-up
 * frames read from the connection's stream until it detaches, and its bytes counted.
 */
import type { Header } from '../protocol/constants.js';
import { FexError } from '../shared/errors.js';
import type { FrameReader } from '../protocol/frame.js';
import type { FrameWriter } from '../protocol/frame-writer.js';
import { schemaProblem, type RequestOf, type Schema } from '../protocol/schema.js';
import type { ConnectionInfo, Identity, RequestContext, ServerServices } from './plugin-api.js';

/** Bytes of one request's own frames, for onResponse hooks. */
export interface Traffic {
  /** At least: the request frame, its body included. */
  in: number;
  /** Where the request stopped reading, once detached (later bytes are other requests'). */
  inEnd: number | undefined;
  out: number;
  /** The fields of the last answer frame sent, for the log's line. */
  answer?: Header;
}

/** What a request's context uses of its connection. */
export interface ContextHost {
  info: ConnectionInfo;
  services: ServerServices;
  reader: FrameReader;
  writer: FrameWriter;
  /** Changes who the connection acts as, after the core's checks. */
  identify(identity: Identity): Promise<{ handle: string; credential?: string }>;
}

/**
 * The context of request `id`. `earlier` resolves once the requests before it are answered;
 * `detach` lets the connection read the next request.
 */
export function requestContext(
  host: ContextHost,
  id: number,
  earlier: Promise<void>,
  detach: () => void,
  traffic: Traffic,
): RequestContext {
  const { reader, writer } = host;
  // Every frame that answers this request waits for the answers to the requests before it.
  const inTurn = (send: () => Promise<number>) =>
    earlier.then(send).then((bytes) => {
      traffic.out += bytes;
    });
  let detached = false;
  return {
    connection: host.info,
    server: host.services,
    identify: (identity: Identity) => host.identify(identity),
    reply: (fields = {}) => {
      traffic.answer = { ...fields, type: 'ok' };
      return inTurn(() => writer.send({ ...fields, type: 'ok', id }));
    },
    replyWithBody: (fields, size, body) => {
      traffic.answer = { ...fields, type: 'ok' };
      return inTurn(() => writer.sendWithBody({ ...fields, type: 'ok', id }, size, body));
    },
    proceed: (fields = {}) => inTurn(() => writer.send({ ...fields, type: 'continue', id })),
    receive: <S extends Schema>(type: string, schema: S) => {
      if (detached) throw new Error('receive() after detach()');
      // receive() checked the fields against `schema`.
      return receive(reader, id, type, schema) as Promise<{
        header: RequestOf<S>;
        body: AsyncIterable<Buffer>;
      }>;
    },
    body: () => {
      if (detached) throw new Error('body() after detach()');
      return reader.body();
    },
    detach: () => {
      detached = true;
      traffic.inEnd = reader.consumed;
      detach();
    },
  };
}

/** The next frame of request `id`, which must be a `type` with `schema`'s fields. */
async function receive(reader: FrameReader, id: number, type: string, schema: Schema) {
  const header = await reader.next();
  if (!header) throw new FexError('CONNECTION_LOST', { during: '' });
  const problem =
    header.id !== id || header.type !== type
      ? `expected "${type}" for request ${id}`
      : schemaProblem(header, schema);
  // A frame out of sequence cannot be answered in step: the exchange is broken, so hang up.
  if (problem) throw new FexError('E_BAD_FRAME', { reason: problem });
  return { header, body: reader.body() };
}
