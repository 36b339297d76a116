/**
 * A real TCP relay between a real client and a real server that can hold one direction at a
 * known byte, so a test can stop a transfer in its middle without guessing at timing.
 */
import type { Socket } from 'node:net';
import { Relay } from './relay.js';

/**
 * A TCP proxy to the server that forwards, per connection, at most `limits.up` bytes from client
 * to server and `limits.down` bytes from server to client, then holds the rest of that direction
 * back (blocking the sender, or with `drop` reading and dropping it): the receiver waits for
 * bytes that never come. When either side goes away, the other is cut at once, as the kernel
 * does when a process dies. Clients keep talking to the same address when the server behind it
 * restarts on another port (`target`).
 */
export class HoldingProxy extends Relay {
  private holdsSeen = 0;
  private holdWaiters: Array<{ count: number; resolve: () => void }> = [];
  /** Applies to connections accepted from now on. */
  limits: { up?: number; down?: number; drop?: boolean } = {};

  /**
   * Resolves once `count` more directions (over all connections) have reached their limit,
   * counting from this call: call it before starting the clients.
   */
  holding(count = 1): Promise<void> {
    const target = this.holdsSeen + count;
    return new Promise((resolve) => this.holdWaiters.push({ count: target, resolve }));
  }

  protected override wire(client: Socket, upstream: Socket): void {
    const { up = Infinity, down = Infinity, drop = false } = this.limits;
    this.forward(client, upstream, up, drop);
    this.forward(upstream, client, down, drop);
  }

  private forward(from: Socket, to: Socket, limit: number, drop: boolean): void {
    let passed = 0;
    let held = false;
    from.on('data', (chunk: Buffer) => {
      if (held) return;
      if (passed + chunk.length >= limit) {
        to.write(chunk.subarray(0, limit - passed));
        passed = limit;
        held = true;
        // Paused, the sender blocks in its writes, as on a stalled network; but a paused socket
        // does not notice its peer's death, so to see a killed sender, read and drop instead.
        if (drop) from.resume();
        else from.pause();
        this.held();
        return;
      }
      passed += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => held || from.resume());
      }
    });
  }

  private held(): void {
    this.holdsSeen += 1;
    this.holdWaiters = this.holdWaiters.filter((w) => {
      if (this.holdsSeen < w.count) return true;
      w.resolve();
      return false;
    });
  }
}
