/**
 * A TCP relay on a port of its own (bound once, on port 0) that forwards each new connection to
 * the port in `target`. A test may change `target` between connections: one lasting address in
 * front of servers that come and go, with no fixed port to be taken meanwhile by someone else.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Joins a client's connection to the server's; by default, bytes pass as they are. */
export type Wiring = (client: Socket, server: Socket) => void;

const straight: Wiring = (client, server) => {
  client.pipe(server);
  server.pipe(client);
};

export class Relay {
  private readonly net: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    public target: number,
    private readonly wiring: Wiring = straight,
  ) {
    this.net = createServer((client) => this.accept(client));
  }

  /** Listens on a port of its own, or again on `port` after stop() (a server come back). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(port, '127.0.0.1', () => {
        this.net.off('error', reject);
        resolve();
      });
    });
    this.port = (this.net.address() as { port: number }).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect({ host: '127.0.0.1', port: this.target });
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
    this.wire(client, server);
  }

  /** Joins the two connections: as the constructor's wiring says; a subclass may override. */
  protected wire(client: Socket, server: Socket): void {
    this.wiring(client, server);
  }
}
