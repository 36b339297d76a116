/**
 * What one-shot commands remember between runs, in oclif's config dir (`state.json`, mode 0600):
 * the default server of `fex join`, and per server address the default handle and the
 * credentials that `fex register` received, each with the id of the server that issued it. Changes are replayed onto a fresh read of the file just before it is
 * written (aside, then renamed), so two commands running at once do not drop each other's
 * credentials, and a crash never leaves the file half written.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { localIoError } from '../shared/errors.js';
import { handleKey } from '../protocol/names.js';

export interface Held {
  handle: string;
  credential: string;
  /** The id of the server that issued it: sent to no other server at that address. */
  serverId?: string;
}

interface ServerState {
  handle?: string;
  credentials: Record<string, Held>;
}

interface StateFile {
  server?: string;
  servers: Record<string, ServerState>;
}

type Change = (data: StateFile) => void;

/** Saves by this process so far: with the pid, a name for the copy written aside. */
let saves = 0;

async function read(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    // Unreadable is not empty: writing over it would lose every credential in it.
    throw localIoError('read', path, error);
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateFile>;
    return { server: parsed.server, servers: parsed.servers ?? {} };
  } catch {
    // Never overwrite credentials we cannot read: keep the damaged file for the user.
    const kept = `${path}.damaged-${Date.now()}`;
    await rename(path, kept).catch(() => undefined);
    process.stderr.write(`Warning: ${path} was damaged; kept it as ${kept} and started afresh.\n`);
    return { servers: {} };
  }
}

function serverEntry(data: StateFile, server: string): ServerState {
  return (data.servers[server] ??= { credentials: {} });
}

export class ClientState {
  private changes: Change[] = [];

  private constructor(
    private readonly path: string,
    private data: StateFile,
  ) {}

  static async load(configDir: string): Promise<ClientState> {
    const path = join(configDir, 'state.json');
    return new ClientState(path, await read(path));
  }

  get server(): string | undefined {
    return this.data.server;
  }

  set server(server: string | undefined) {
    this.change((data) => {
      data.server = server;
    });
  }

  defaultHandle(server: string): string | undefined {
    return this.data.servers[server]?.handle;
  }

  credential(server: string, handle: string): Held | undefined {
    return this.data.servers[server]?.credentials[handleKey(handle)];
  }

  /** Keeps a credential; the first handle remembered for a server becomes its default. */
  remember(server: string, held: Held): void {
    this.change((data) => {
      const entry = serverEntry(data, server);
      entry.handle ??= held.handle;
      entry.credentials[handleKey(held.handle)] = held;
    });
  }

  setDefaultHandle(server: string, handle: string): void {
    this.change((data) => {
      serverEntry(data, server).handle = handle;
    });
  }

  async save(): Promise<void> {
    const fresh = await read(this.path);
    for (const change of this.changes) change(fresh);
    // Only join, register and leave save: the other commands never pay for loading fs-extra.
    const { outputJson } = await import('fs-extra/esm');
    // Unique to this process and this save; no random bytes, so no node:crypto at start-up.
    const aside = `${this.path}.${process.pid}.${++saves}.tmp`;
    await outputJson(aside, fresh, { spaces: 2, mode: 0o600 });
    // A plain rename, not fs-extra's move({ overwrite }): that removes the old file first, and a
    // command reading in between would find no credentials.
    await rename(aside, this.path);
    this.data = fresh;
    this.changes = [];
  }

  private change(change: Change): void {
    change(this.data);
    this.changes.push(change);
  }
}
