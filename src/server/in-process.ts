/**
 * A plugin's front door (docs/plugins.md, "Front doors"): a connection opened inside the server
 * process and served by the same Connection code as a TCP client, so every request goes through
 * the handler table, the core's checks, the hooks, the limits and the log. This is the plugin's
 * end: it speaks the wire protocol over an in-memory stream (duplex-pair.ts).
 */
import { Readable } from 'node:stream';
import type { Header } from '../protocol/constants.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { encodeHeader, FrameReader } from '../protocol/frame.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import { FexError, isErrorCode, type ErrorDetails } from '../shared/errors.js';
import type { PairedStream } from './duplex-pair.js';
import type { Answer, EventFields, FrameBody, InProcessConnection } from './plugin-api.js';

/** One answer frame, or the failure that took its place. */
type Arrival = { answer: Answer } | { error: FexError };

/**
 * The server's answer as the fex CLI words it: the table's sentence for a built-in code, the
 * server's own words for a plugin's code or a built-in one said in a handler's words.
 */
function refusal(header: Header): FexError {
  const code = typeof header.code === 'string' ? header.code : 'E_INTERNAL';
  const message = typeof header.message === 'string' ? header.message : undefined;
  const details = (
    typeof header.details === 'object' && header.details !== null ? header.details : {}
  ) as ErrorDetails;
  if (isErrorCode(code) && header.custom !== true) return new FexError(code, details);
  return FexError.of(code, details, message);
}

export class InProcessClient implements InProcessConnection {
  private nextId = 1;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  /** Answers that arrived before anyone asked, and askers waiting, per request id. */
  private readonly arrived = new Map<number, Arrival[]>();
  private readonly waiting = new Map<number, (arrival: Arrival) => void>();
  private readonly listeners = new Set<(event: EventFields) => void>();
  private readonly closeListeners = new Set<(reason: FexError) => void>();
  private ended: FexError | undefined;
  private acting: string | undefined;

  constructor(
    private readonly stream: PairedStream,
    readonly remote: string,
  ) {
    this.reader = new FrameReader(stream);
    this.writer = new FrameWriter(stream);
    stream.on('error', () => undefined);
    void this.read();
  }

  get handle(): string | undefined {
    return this.acting;
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Says `hello`, as every connection must first. */
  async greet(client: string): Promise<void> {
    await this.request('hello', { version: PROTOCOL_VERSION, client });
  }

  async request(
    type: string,
    fields: Record<string, unknown> = {},
    body?: FrameBody,
  ): Promise<Answer & { id: number }> {
    const id = this.nextId++;
    const answer = this.next(id);
    await this.send(id, type, fields, body);
    const got = await answer;
    if (got.header.type === 'ok' && (type === 'register' || type === 'login'))
      this.acting = String(got.header.handle);
    return { id, ...got };
  }

  async send(
    id: number,
    type: string,
    fields: Record<string, unknown> = {},
    body?: FrameBody,
  ): Promise<void> {
    if (this.ended) throw this.ended;
    const header = { ...fields, type, id } as Header;
    // Checked here, so an oversized header fails this call, not the connection.
    encodeHeader(header);
    if (body) await this.writer.sendWithBody(header, body.size, body.chunks);
    else await this.writer.send(header);
  }

  next(id: number): Promise<Answer> {
    const queued = this.arrived.get(id)?.shift();
    if (queued) return settle(queued);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<Arrival>((resolve) => this.waiting.set(id, resolve)).then(settle);
  }

  onEvent(listener: (event: EventFields) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: (reason: FexError) => void): () => void {
    if (this.ended) {
      listener(this.ended);
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.ended) return;
    // Said goodbye, so the server's log reads "left", not "disconnected".
    await this.request('leave').catch(() => undefined);
    this.stream.end();
    this.stream.destroy();
  }

  private deliver(id: number, arrival: Arrival): void {
    const waiter = this.waiting.get(id);
    if (waiter) {
      this.waiting.delete(id);
      waiter(arrival);
    } else this.arrived.set(id, [...(this.arrived.get(id) ?? []), arrival]);
  }

  private async read(): Promise<void> {
    let reason = new FexError('CONNECTION_LOST', { during: '' });
    try {
      for (;;) {
        const header = await this.reader.next();
        if (!header) break;
        if (header.type === 'event') {
          const event = { ...header } as Partial<Header>;
          delete event.type;
          for (const listener of this.listeners) listener(event as EventFields);
          if (header.event === 'closing' && typeof header.code === 'string')
            reason = FexError.of(header.code, (header.details ?? {}) as ErrorDetails);
          continue;
        }
        const id = typeof header.id === 'number' ? header.id : 0;
        if (header.type === 'error') {
          this.deliver(id, { error: refusal(header) });
          continue;
        }
        if (header.body === undefined) {
          this.deliver(id, { answer: { header, body: undefined } });
          continue;
        }
        // The next frame waits until this body is read, or dropped by destroying it.
        const body = Readable.from(this.reader.body(), { objectMode: false });
        const done = new Promise<void>((resolve) => body.once('close', resolve));
        this.deliver(id, { answer: { header, body } });
        await done;
      }
    } catch (error) {
      if (error instanceof FexError) reason = error;
    } finally {
      this.ended = reason;
      this.stream.destroy();
      for (const [id, waiter] of this.waiting) {
        this.waiting.delete(id);
        waiter({ error: reason });
      }
      for (const listener of this.closeListeners) listener(reason);
      this.closeListeners.clear();
    }
  }
}

function settle(arrival: Arrival): Promise<Answer> {
  return 'error' in arrival ? Promise.reject(arrival.error) : Promise.resolve(arrival.answer);
}
