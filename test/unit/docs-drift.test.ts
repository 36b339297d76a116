/**
 * The command reference (docs/commands.md) and the error tables of docs/cli.md and
 * docs/protocol.md are generated from the code (`npm run docs`); these tests fail when the
 * committed text differs from what the code says, and show the check catching each kind of drift.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ROOT, tempDir } from '../helpers/harness.js';

const SCRIPT = join(ROOT, 'scripts', 'write-docs.mjs');

function check(docs?: string) {
  const args = [SCRIPT, '--check', ...(docs ? ['--docs', docs] : [])];
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

/** The three generated docs, copied, with `edit` applied to one of them. */
async function driftedCopy(file: string, edit: (text: string) => string): Promise<string> {
  const dir = await tempDir('fex-docs-');
  for (const name of ['cli.md', 'protocol.md', 'commands.md'])
    await copyFile(join(ROOT, 'docs', name), join(dir, name));
  const before = await readFile(join(dir, file), 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the edit of ${file} changed nothing`);
  await writeFile(join(dir, file), after);
  return dir;
}

describe('generated docs', () => {
  after(cleanup);

  it('the committed reference and error tables are what the code says', () => {
    const run = check();
    assert.equal(run.status, 0, run.stderr);
  });

  const drifts: Array<[file: string, edit: (text: string) => string, part: string]> = [
    [
      'cli.md',
      (t) => t.replace('`File not found in the server.` ', '`File not found on the server.`  '),
      'cli.md: error table',
    ],
    ['cli.md', (t) => t.replace('| 7      | `limit` ', '| 7      | `space` '), 'exit table'],
    ['protocol.md', (t) => t.replace(/\| `E_INTERNAL` .*\n/, ''), 'protocol.md: wire error table'],
    [
      'commands.md',
      (t) => t.replace('Show size, owner, stored time and checksum.', 'Show more.'),
      'commands.md: command reference',
    ],
  ];
  for (const [file, edit, part] of drifts)
    it(`fails when ${part} drifts from the code`, async () => {
      const run = check(await driftedCopy(file, edit));
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, new RegExp(part.replace(/\./g, '\\.')));
    });
});
