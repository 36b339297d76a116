/** The listening side of the bare Node pipe baseline (pipe-baseline.mjs). */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BENCH } from './paths.mjs';
import { lastJson } from './samples.mjs';
import { exited, start } from './util.mjs';

/**
 * Starts one role of pipe-baseline.mjs that listens (with `buffer` bytes of highWaterMark, or
 * Node's defaults, and `hash` when given: `sha256`), and resolves once it printed its port.
 */
export async function startPipeServer(role, path, buffer, hash) {
  const args = [join(BENCH, 'pipe-baseline.mjs'), role, '0', path, ...pipeOptions(buffer, hash)];
  const child = start(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolvePort, reject) => {
    lines.on('line', (line) => {
      output += `${line}\n`;
      const m = /^ready (\d+)$/.exec(line);
      if (m) resolvePort(Number(m[1]));
    });
    void exited(child).then(({ code }) => reject(new Error(`${role} exited early (${code})`)));
  });
  const done = exited(child).then((result) => ({ ...result, report: lastJson(output) }));
  return { child, port, done };
}

/** pipe-baseline.mjs's optional arguments after PORT and FILE: [BUF [HASH]]. */
export function pipeOptions(buffer, hash) {
  if (hash && !buffer) throw new Error('a hashing pipe needs its buffer size too');
  return [...(buffer ? [String(buffer)] : []), ...(hash ? [hash] : [])];
}
