/**
 * One client connection: reads requests one after another and dispatches each to its handler
 * after the core checks (hello first, known type, valid fields, registered handle). A handler
 * that fails answers this client with an error; the server and other clients carry on.
 */
import type { Socket } from 'node:net';
import type { Header } from '../protocol/constants.js';
import { FexError, isErrorCode } from '../protocol/errors.js';
import { FrameReader, isStreamFatal } from '../protocol/frame.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import { schemaProblem, type Schema } from '../protocol/schema.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { ConnectionInfo, Handler, RequestContext, ServerServices } from './plugin-api.js';

export class Connection implements ConnectionInfo {
  handle: string | undefined;
  greeted = false;
  /** True while a request is being served; shutdown waits for it. */
  busy = false;
  private closing = false;
  /** Set by shutdown(): the client is told why the connection ends. */
  private shuttingDown = false;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly services: ServerServices,
    private readonly registry: HandlerRegistry,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const { limits } = services;
    const ms = (seconds: number) => seconds * 1000;
    this.reader = new FrameReader(socket, {
      maxHeaderBytes: limits.maxHeaderBytes,
      idleTimeoutMs: ms(limits.idleTimeout),
      stallTimeoutMs: ms(limits.transferTimeout),
      headerTimeoutMs: ms(limits.headerTimeout),
    });
    this.writer = new FrameWriter(socket, { drainTimeoutMs: ms(limits.transferTimeout) });
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }

  readonly remote: string;

  /** Serves requests until the client leaves or the connection breaks. */
  async serve(): Promise<void> {
    try {
      while (!this.closing) {
        const header = await this.reader.next();
        if (!header) break;
        this.busy = true;
        try {
          await this.dispatch(header);
        } finally {
          this.busy = false;
        }
      }
      if (this.shuttingDown) await this.sendEvent({ event: 'closing', code: 'E_SHUTTING_DOWN' });
    } catch (error) {
      // The stream cannot be resynchronised after a malformed frame: say why, then hang up.
      if (error instanceof FexError && error.code === 'E_BAD_FRAME') {
        this.services.log.info(`connection ${this.remote}: ${error.message}`);
        await this.answerError(undefined, error).catch(() => undefined);
      }
      if (error instanceof FexError && error.code === 'E_TIMEOUT') {
        this.services.log.info(`connection ${this.remote} closed: ${error.message}`);
        await this.sendEvent({ event: 'closing', code: error.code, details: error.details });
        this.socket.destroy();
      }
    } finally {
      this.socket.end();
      this.socket.destroySoon?.();
    }
  }

  /** Sends an event frame; never throws (the connection may already be gone). */
  async sendEvent(event: Record<string, unknown>): Promise<void> {
    if (this.socket.destroyed) return;
    await this.writer.send({ type: 'event', ...event } as Header).catch(() => undefined);
  }

  /** Stops after the request in flight, telling the client why. */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.shuttingDown = true;
    if (!this.busy) {
      await this.sendEvent({ event: 'closing', code: 'E_SHUTTING_DOWN' });
      this.socket.end();
    }
  }

  end(): void {
    this.closing = true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async dispatch(header: Header): Promise<void> {
    const id = header.id;
    // Without an id no answer can name the request: the client is not speaking the protocol.
    if (id === undefined) throw new FexError('E_BAD_FRAME', { reason: 'a request without "id"' });
    const context = this.context(id);
    const started = { at: Date.now(), in: this.socket.bytesRead, out: this.socket.bytesWritten };
    let failure: FexError | undefined;
    try {
      const handler = this.admit(header);
      for (const hook of this.registry.hooks('onRequest')) await hook(context, header);
      await handler.run(context, header);
    } catch (error) {
      failure = this.asAnswer(error, header.type);
      if (isStreamFatal(failure)) throw failure;
      await this.answerError(id, failure);
    } finally {
      const outcome = {
        ok: failure === undefined,
        ...(failure ? { code: failure.code } : {}),
        bytesIn: this.socket.bytesRead - started.in,
        bytesOut: this.socket.bytesWritten - started.out,
        durationMs: Date.now() - started.at,
      };
      for (const hook of this.registry.hooks('onResponse'))
        await Promise.resolve()
          .then(() => hook(context, header, outcome))
          .catch((error: unknown) =>
            this.services.log.error(`onResponse hook failed: ${String(error)}`),
          );
    }
  }

  /** The core's checks, in order; the handler to run when they pass. */
  private admit(header: Header): Handler {
    const handler = this.registry.get(header.type);
    if (!handler) throw new FexError('E_UNKNOWN_TYPE', { type: header.type });
    if (!this.greeted && header.type !== 'hello')
      throw new FexError('E_BAD_REQUEST', { reason: 'send "hello" first' });
    // Request frames carry no body: bodies travel in `data` frames once the server said continue.
    const problem =
      header.body !== undefined ? 'a request has no body' : schemaProblem(header, handler.params);
    if (problem) throw new FexError('E_BAD_REQUEST', { reason: problem });
    if ((handler.auth ?? 'registered') === 'registered' && !this.handle)
      throw new FexError('E_NOT_REGISTERED', { action: header.type });
    return handler;
  }

  /** What the client hears of a failure; anything but a FexError is logged and kept vague. */
  private asAnswer(error: unknown, type: string): FexError {
    if (error instanceof FexError) return error;
    // A full disk is the client's to know, whichever storage backend or plugin ran into it.
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (errno === 'ENOSPC' || errno === 'EDQUOT') return new FexError('E_DISK_FULL');
    this.services.log.error(`"${type}" failed: ${String((error as Error)?.stack ?? error)}`);
    return new FexError('E_INTERNAL', { reason: `the "${type}" handler failed` });
  }

  private answerError(id: number | undefined, error: FexError): Promise<void> {
    const code = isErrorCode(error.code) || error.code.startsWith('E_') ? error.code : 'E_INTERNAL';
    return this.writer.send({
      type: 'error',
      ...(id === undefined ? {} : { id }),
      code,
      message: error.message,
      details: error.details,
    });
  }

  private context(id: number): RequestContext {
    return {
      connection: this,
      server: this.services,
      reply: (fields = {}) => this.writer.send({ ...fields, type: 'ok', id }),
      replyWithBody: (fields, size, body) =>
        this.writer.sendWithBody({ ...fields, type: 'ok', id }, size, body),
      proceed: (fields = {}) => this.writer.send({ ...fields, type: 'continue', id }),
      receive: (type, schema) => this.receive(id, type, schema),
    };
  }

  private async receive(id: number, type: string, schema: Schema) {
    const header = await this.reader.next();
    if (!header) throw new FexError('CONNECTION_LOST', { during: '' });
    const problem =
      header.id !== id || header.type !== type
        ? `expected "${type}" for request ${id}`
        : schemaProblem(header, schema);
    // A frame out of sequence cannot be answered in step: the exchange is broken, so hang up.
    if (problem) throw new FexError('E_BAD_FRAME', { reason: problem });
    return { header, body: this.reader.body() };
  }
}
