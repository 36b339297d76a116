/**
 * What the shell tests share beyond the harness: a shell's whole output as one transcript (stdout
 * and stderr in the order they were written), a shell kept open and driven line by line, and the
 * upload line's time masked so whole outputs can be compared exactly.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { maskTimes } from '../../src/testing/live-shell.js';
import { BIN, cleanEnv, tempDir, type User } from '../helpers/harness.js';

// The test kit's live shell, shared with plugins' tests rather than copied.
export { LiveShell, maskTimes, stopShells } from '../../src/testing/live-shell.js';

/** A port nothing listens on: one the system just handed out and took back. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Transcript {
  code: number | null;
  /** stdout and stderr interleaved exactly as written, times masked. */
  output: string;
}

/**
 * Runs `fex ...args` as `user` with `input` on stdin, stdout and stderr both going to one file:
 * the file's order is the order of the writes, so this also checks that each line's output is
 * out before the next line's.
 */
export async function transcript(
  user: User,
  args: string[],
  input: string,
  env: Record<string, string> = {},
): Promise<Transcript> {
  const file = join(await tempDir('fex-out-'), 'transcript');
  const out = await open(file, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: user.home,
        env: cleanEnv(user.home, env),
        stdio: ['pipe', out.fd, out.fd],
      });
      child.on('error', reject);
      child.on('close', resolve);
      child.stdin?.end(input);
    });
    return { code, output: maskTimes(await readFile(file, 'utf8')) };
  } finally {
    await out.close();
  }
}
