/**
 * The AWS SDK is loaded only when the S3 backend is chosen: a one-shot client command and the
 * default `fex serve` never resolve an `@aws-sdk/` module; `fex serve --storage s3://` does. A
 * module resolve hook, registered with `--import`, writes every `@aws-sdk/` specifier to a file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, cleanEnv, cleanup, tempDir } from '../helpers/harness.js';

const HOOK = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@aws-sdk/')) appendFileSync(process.env.SDK_LOAD_LOG, specifier + '\\n');
  return next(specifier, context);
}`;

/** Runs `fex ...args` with the hook until it exits, or until `stopAt` is printed (then SIGTERM). */
async function sdkModulesOf(args: string[], stopAt?: RegExp): Promise<string[]> {
  const dir = await tempDir('fex-lazy-');
  const log = join(dir, 'sdk.log');
  await writeFile(log, '');
  const register = join(dir, 'register.mjs');
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));\n`,
  );
  const child = spawn(process.execPath, ['--import', register, BIN, ...args], {
    cwd: dir,
    env: cleanEnv(dir, {
      SDK_LOAD_LOG: log,
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (stopAt?.test(out)) child.kill('SIGTERM');
  });
  child.stderr.resume();
  await new Promise((resolve) => child.once('exit', resolve));
  return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
}

describe('the AWS SDK, loaded lazily', () => {
  after(cleanup);

  it('is not loaded by a one-shot client command', async () => {
    assert.deepEqual(await sdkModulesOf(['dir', '--server', '127.0.0.1:1']), []);
  });

  it('is not loaded by the default server', async () => {
    const modules = await sdkModulesOf(['serve', '--port', '0', '--dir', 'files'], /listening/);
    assert.deepEqual(modules, []);
  });

  it('is loaded by fex serve --storage s3://', async () => {
    const modules = await sdkModulesOf(['serve', '--port', '0', '--storage', 's3://b']);
    assert.ok(modules.includes('@aws-sdk/client-s3'), modules.join(', '));
  });
});
