/**
 * Copies of bench/empty-cli that each add one thing any CLI like fex must have, and no fex code
 * (docs/performance.md, "Start-up"): a second command, so oclif sorts its commands with
 * `localeCompare` and builds ICU's collator; a command that makes one TCP round trip (connect,
 * send a line, read it back from an echo listener on 127.0.0.1, close); or both. The copy with
 * both is the floor under the `fex dir` target: what an oclif CLI with more than one command that
 * asks a server anything does beyond the empty CLI.
 */
import { once } from 'node:events';
import { cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BENCH, REPO } from './paths.mjs';

/** The bench's label for the copy with both. */
export const FLOOR_LABEL = 'floor: oclif CLI, 2 commands, 1 TCP round trip';

/** The environment variable that tells the round-trip command the echo listener's port. */
const PORT_VARIABLE = 'ROUND_TRIP_PORT';

/**
 * A copy of bench/empty-cli in `work/name`, its package.json changed by `editPjson` and its
 * command table replaced by `commands` (a module's source) when given. Returns its bin.
 */
export function emptyCliCopy(work, name, { editPjson = () => {}, commands } = {}) {
  const dir = join(work, name);
  cpSync(join(BENCH, 'empty-cli'), dir, { recursive: true });
  const pjson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  editPjson(pjson);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pjson, null, 2)}\n`);
  if (commands) writeFileSync(join(dir, 'commands.mjs'), commands);
  // Node and oclif find @oclif/* from here as they do from bench/empty-cli: the repository's.
  if (!existsSync(join(work, 'node_modules')))
    symlinkSync(join(REPO, 'node_modules'), join(work, 'node_modules'), 'dir');
  return join(dir, 'bin/run.mjs');
}

/**
 * The command table of a floor CLI, oclif taken as bench/empty-cli takes it. `hello` prints
 * `hello`, or with `roundTrip` sends it to the echo listener and prints what comes back (and
 * fails if nothing does); `twoCommands` adds a second command, `world`.
 */
export function floorCommands({ roundTrip = false, twoCommands = false }) {
  const hello = roundTrip
    ? `const socket = connect(Number(process.env.${PORT_VARIABLE}), '127.0.0.1');
    await once(socket, 'connect');
    socket.end('hello\\n');
    let text = '';
    for await (const chunk of socket) text += chunk;
    if (text !== 'hello\\n') this.error('no echo');
    this.log(text.trim());`
    : `this.log('hello');`;
  const world = `
class World extends Command {
  static summary = 'Say world.';

  async run() {
    this.log('world');
  }
}
`;
  return `import { createRequire } from 'node:module';
${roundTrip ? "import { once } from 'node:events';\nimport { connect } from 'node:net';\n" : ''}
const require = createRequire(import.meta.url);
const { Command } = require('@oclif/core/command');

class Hello extends Command {
  static summary = 'Say hello.';

  async run() {
    ${hello}
  }
}
${twoCommands ? world : ''}
export const COMMANDS = { hello: Hello${twoCommands ? ', world: World' : ''} };
`;
}

/**
 * An echo listener on 127.0.0.1 for the round-trip command, in the calling process. `env` is
 * what a floor CLI's environment needs to find it.
 */
export async function startEcho() {
  const server = createServer((socket) => socket.pipe(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    env: { [PORT_VARIABLE]: String(server.address().port) },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
