/**
 * The layers of docs/architecture.md are enforced by eslint (import-x/no-restricted-paths). These
 * tests lint a file placed, in name only, in each layer with an import it must not make, so a
 * broken resolver (which makes the rule skip every import) or a dropped zone fails here, not in
 * a review months later. The same imports where they are allowed pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../helpers/harness.js';

const eslint = new ESLint({ cwd: ROOT });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const forbidden: Array<[where: string, source: string, why: RegExp]> = [
  ['src/server/example.ts', '../client/session.js', /server never imports the client/],
  ['src/server/storage/example.ts', '../../cli/base-command.js', /server never imports the client/],
  ['src/protocol/example.ts', '../server/limits.js', /know neither end/],
  ['src/protocol/example.ts', '../client/session.js', /know neither end/],
  ['src/shared/example.ts', '../protocol/frame.js', /below the wire/],
  ['src/client/example.ts', '../server/handles.js', /client never imports the server/],
  ['src/shell/example.ts', '../server/server.js', /client never imports the server/],
  ['src/commands/example.ts', '../server/handles.js', /only through run-server/],
  ['src/commands/example.ts', '../server/storage/local-storage.js', /only through run-server/],
  ['plugins/quota/example.js', '../../src/shared/errors.ts', /only through the package 'fex'/],
  ['plugins/quota/example.js', '../../dist/src/index.js', /only through the package 'fex'/],
];

const allowed: Array<[where: string, source: string]> = [
  ['src/server/example.ts', '../shared/address.js'],
  ['src/server/example.ts', '../protocol/frame.js'],
  ['src/client/example.ts', '../shared/errors.js'],
  ['src/protocol/example.ts', '../shared/errors.js'],
  ['src/commands/example.ts', '../server/run-server.js'],
  ['src/commands/example.ts', '../client/client.js'],
  // Even where node_modules/fex links back to this repository, as for the first-party plugins.
  ['plugins/quota/example.js', 'fex'],
];

describe('the layers the lint enforces', () => {
  for (const [where, source, why] of forbidden)
    it(`refuses ${source} in ${where}`, async () => {
      const found = await problems(where, `import * as x from '${source}';\nexport { x };\n`);
      assert.ok(
        found.some((p) => p.startsWith('import-x/no-restricted-paths') && why.test(p)),
        found.join('\n') || 'no problem reported',
      );
    });

  for (const [where, source] of allowed)
    it(`accepts ${source} in ${where}`, async () => {
      assert.deepEqual(
        await problems(where, `import * as x from '${source}';\nexport { x };\n`),
        [],
      );
    });

  it('reports an import it cannot resolve, so no zone can go quiet', async () => {
    const found = await problems(
      'src/server/example.ts',
      "import * as x from './missing.js';\nexport { x };\n",
    );
    assert.ok(
      found.some((p) => p.startsWith('import-x/no-unresolved')),
      found.join('\n'),
    );
  });
});
