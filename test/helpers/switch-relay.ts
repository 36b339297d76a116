/**
 * A TCP relay that can be switched off like a network cable pulled out: `cut()` drops every
 * connection through it and refuses new ones until `mend()`. It counts the bytes clients sent
 * through it, so a test can cut in the middle of a transfer at a byte it chooses.
 */
import type { Socket } from 'node:net';
import { Relay } from './relay.js';

export class SwitchRelay extends Relay {
  private down = false;
  private readonly live = new Set<Socket>();
  /** Bytes the clients have sent through the relay so far. */
  sent = 0;
  /** Called after each chunk a client sends (with `sent` already counted). */
  onSent: ((sent: number) => void) | undefined;

  cut(): void {
    this.down = true;
    for (const socket of this.live) socket.destroy();
  }

  mend(): void {
    this.down = false;
  }

  protected override wire(client: Socket, server: Socket): void {
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
