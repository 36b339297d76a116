/**
 * A TCP relay that can be switched off like a network cable pulled out: `cut()` drops every
 * connection through it and refuses new ones until `mend()`. `overload()` drops them too and
 * answers each new one as an S3 server over its capacity does (HTTP 503 SlowDown) until `mend()`.
 * It counts the bytes clients sent through it, so a test can cut in the middle of a transfer at
 * a byte it chooses.
 */
import type { Socket } from 'node:net';
import { Relay } from './relay.js';

/** What AWS S3 answers a client that sends faster than it can take (its documented 503). */
const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
const SLOW_DOWN = [
  'HTTP/1.1 503 Slow Down',
  'Content-Type: application/xml',
  `Content-Length: ${Buffer.byteLength(SLOW_DOWN_BODY)}`,
  'Connection: close',
  '',
  SLOW_DOWN_BODY,
].join('\r\n');

export class SwitchRelay extends Relay {
  private down = false;
  private overloaded = false;
  private readonly live = new Set<Socket>();
  /** Bytes the clients have sent through the relay so far. */
  sent = 0;
  /** Called after each chunk a client sends (with `sent` already counted). */
  onSent: ((sent: number) => void) | undefined;

  cut(): void {
    this.down = true;
    for (const socket of this.live) socket.destroy();
  }

  overload(): void {
    this.cut();
    this.down = false;
    this.overloaded = true;
  }

  mend(): void {
    this.down = false;
    this.overloaded = false;
  }

  protected override wire(client: Socket, server: Socket): void {
    if (this.overloaded) {
      // Answered once the request's head is in, as a server does; its body is not read, and
      // nothing reaches the server behind (the relay drops that connection with the client's).
      client.once('data', () => client.end(SLOW_DOWN));
      return;
    }
    if (this.down) {
      client.destroy();
      server.destroy();
      return;
    }
    this.live.add(client);
    client.on('close', () => this.live.delete(client));
    client.on('data', (chunk: Buffer) => {
      this.sent += chunk.length;
      this.onSent?.(this.sent);
    });
    super.wire(client, server);
  }
}
