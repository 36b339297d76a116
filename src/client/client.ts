/**
 * What a command asks of fex, whichever front door it came through. One-shot commands get a
 * OneShotClient (a fresh connection per command, remembered server and credentials); the shell
 * installs its own client that keeps one session open between lines.
 */
import type { FileEntry, Header } from '../protocol/constants.js';
import type { DirOptions, FileChange, Progress } from './session.js';

export interface StoreResult extends FileEntry {
  handle: string;
}

/** A file deleted, or renamed (then under its new name, `from` its old one), by `handle`. */
export interface ChangeResult extends FileChange {
  handle: string;
  from?: string;
}

export interface StoreOptions {
  /** Seconds the server keeps the file, 0 for ever; undefined for the server's default. */
  expires?: number;
}

export interface Client {
  join(host: string, port: string): Promise<{ server: string }>;
  leave(): Promise<{ server: string }>;
  register(handle: string): Promise<{ handle: string; server: string }>;
  /** Acts as a handle this account already holds a credential for; never registers. */
  login(handle: string): Promise<{ handle: string; server: string }>;
  store(path: string, progress?: Progress, options?: StoreOptions): Promise<StoreResult>;
  /** The listing, or part of it; with `onPage`, page by page as it arrives (see Session.dir). */
  dir(options?: DirOptions): Promise<FileEntry[]>;
  /** Deletes a file this handle stored. */
  delete(name: string): Promise<ChangeResult>;
  /** Renames a file this handle stored. */
  rename(from: string, to: string): Promise<ChangeResult>;
  /** A request of any type, as a registered handle: the way plugin commands reach the server. */
  call(type: string, fields: Record<string, unknown>, action: string): Promise<Header>;
  get(
    name: string,
    output: string | undefined,
    progress?: Progress,
  ): Promise<FileEntry & { path: string }>;
}

export interface ClientOptions {
  /** oclif's config dir, where one-shot commands remember things. */
  configDir: string;
  /** --server, else FEX_SERVER. */
  server?: string;
  /** --handle, else FEX_HANDLE. */
  handle?: string;
}

let installed: Client | undefined;

/** The shell puts its client here for the commands it runs. */
export function installClient(client: Client | undefined): void {
  installed = client;
}

export async function clientFor(options: ClientOptions): Promise<Client> {
  if (installed) return installed;
  const { OneShotClient } = await import('./one-shot-client.js');
  return new OneShotClient(options);
}
