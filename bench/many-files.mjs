#!/usr/bin/env node
/**
 * Stores every file of a folder over ONE fex session, the way a piped shell session would
 * (`/join`, `/register`, then one `/store` per file), using the client Session API of the built
 * project: `storeMany` (pipelined) when the build has it, else one `store` after another. The
 * bench times this whole process, start-up included, beside the piped shell.
 *
 *   node bench/many-files.mjs ROOT PORT HANDLE DIR
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, port, handle, dir] = process.argv.slice(2);
const { Session } = await import(pathToFileURL(join(root, 'dist/src/client/session.js')).href);
const pipelined = join(root, 'dist/src/client/store-many.js');
const { storeMany } = existsSync(pipelined) ? await import(pathToFileURL(pipelined).href) : {};

const names = readdirSync(dir).sort();
const session = await Session.open({ host: '127.0.0.1', port: Number(port) });
try {
  await session.register(handle);
  const paths = names.map((name) => join(dir, name));
  if (storeMany) {
    await storeMany(session, paths, (index, outcome) => {
      if (!outcome.ok) throw outcome.error;
    });
  } else {
    for (const path of paths) await session.store(path);
  }
} finally {
  await session.leave();
}
process.stdout.write(`${JSON.stringify({ stored: names.length })}\n`);
