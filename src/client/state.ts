/**
 * What one-shot commands remember between runs, in oclif's config dir (`state.json`, mode 0600):
 * the default server of `fex join`, and per server the default handle and the credentials that
 * `fex register` received. Written aside and renamed, so a crash never leaves it half written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { handleKey } from '../protocol/names.js';

interface ServerState {
  handle?: string;
  credentials: Record<string, { handle: string; credential: string }>;
}

interface StateFile {
  server?: string;
  servers: Record<string, ServerState>;
}

export class ClientState {
  private constructor(
    private readonly path: string,
    private data: StateFile,
  ) {}

  static async load(configDir: string): Promise<ClientState> {
    const path = join(configDir, 'state.json');
    let data: StateFile = { servers: {} };
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<StateFile>;
      data = { server: parsed.server, servers: parsed.servers ?? {} };
    } catch {
      // Missing or unreadable: start afresh rather than refuse to work.
    }
    return new ClientState(path, data);
  }

  get server(): string | undefined {
    return this.data.server;
  }

  set server(server: string | undefined) {
    this.data.server = server;
  }

  defaultHandle(server: string): string | undefined {
    return this.data.servers[server]?.handle;
  }

  credential(server: string, handle: string): { handle: string; credential: string } | undefined {
    return this.data.servers[server]?.credentials[handleKey(handle)];
  }

  /** Keeps a credential; the first handle remembered for a server becomes its default. */
  remember(server: string, handle: string, credential: string): void {
    const entry = (this.data.servers[server] ??= { credentials: {} });
    entry.handle ??= handle;
    entry.credentials[handleKey(handle)] = { handle, credential };
  }

  setDefaultHandle(server: string, handle: string): void {
    const entry = (this.data.servers[server] ??= { credentials: {} });
    entry.handle = handle;
  }

  async save(): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    const aside = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(aside, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    await rename(aside, this.path);
  }
}
