#!/usr/bin/env node
/**
 * Stores every file of a folder over ONE fex session, the way a piped shell session would
 * (`/join`, `/register`, then one `/store` per file), using the client Session API of the built
 * project. The bench times this whole process, start-up included; it is used when the build has
 * no `fex shell` yet.
 *
 *   node bench/many-files.mjs ROOT PORT HANDLE DIR
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, port, handle, dir] = process.argv.slice(2);
const { Session } = await import(pathToFileURL(join(root, 'dist/src/client/session.js')).href);

const names = readdirSync(dir).sort();
const session = await Session.open({ host: '127.0.0.1', port: Number(port) });
try {
  await session.register(handle);
  for (const name of names) await session.store(join(dir, name));
} finally {
  await session.leave();
}
process.stdout.write(`${JSON.stringify({ stored: names.length })}\n`);
