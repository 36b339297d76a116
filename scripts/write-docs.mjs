#!/usr/bin/env node
/**
 * Writes the generated parts of the docs from the built code (`npm run docs`, after a build):
 *
 * - docs/commands.md, the command reference, by `oclif readme` from the command classes;
 * - the exit-status and error tables of docs/cli.md and the wire error table of docs/protocol.md,
 *   from ERROR_TABLE, EXIT and src/shared/error-docs.ts, between their BEGIN/END markers.
 *
 * `--check` writes nothing and exits 1 naming every part that differs from what the code says
 * (test/unit/docs-drift.test.ts runs it); `--docs DIR` reads and writes DIR instead of docs/.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import prettier from 'prettier';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { check: { type: 'boolean' }, docs: { type: 'string' } } });
const docs = values.docs ?? join(root, 'docs');
const built = (path) => import(pathToFileURL(join(root, 'dist/src/shared', path)).href);
const { ERROR_TABLE, EXIT } = await built('errors.js');
const { ERROR_WHEN, EXIT_KINDS } = await built('error-docs.js');

const code = (text) => `\`${text}\``;
const cell = (text) => String(text).replaceAll('|', '\\|');
const exitName = Object.fromEntries(Object.entries(EXIT).map(([name, status]) => [status, name]));
const errors = Object.entries(ERROR_TABLE);

function table(head, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const parts = [
  {
    file: 'cli.md',
    marker: 'EXIT TABLE',
    text: table(
      ['status', 'name', 'kind of failure', 'codes'],
      Object.entries(EXIT).map(([name, status]) => {
        const codes = errors.filter(([, spec]) => spec.exit === status).map(([c]) => code(c));
        return [status, code(name), EXIT_KINDS[name], codes.join(', ') || '-'];
      }),
    ),
  },
  {
    file: 'cli.md',
    marker: 'ERROR TABLE',
    text: table(
      ['code', 'message', 'exit', 'when'],
      errors.map(([c, spec]) => [
        code(c),
        code(spec.message),
        `${spec.exit} (${exitName[spec.exit]})`,
        ERROR_WHEN[c],
      ]),
    ),
  },
  {
    file: 'protocol.md',
    marker: 'WIRE ERROR TABLE',
    text: table(
      ['code', 'meaning', 'message'],
      errors
        .filter(([c]) => c.startsWith('E_'))
        .map(([c, spec]) => [code(c), ERROR_WHEN[c], code(spec.message)]),
    ),
  },
];

const drifted = [];
const shown = (path) => (relative(root, path).startsWith('..') ? path : relative(root, path));

for (const file of new Set(parts.map((part) => part.file))) {
  const path = join(docs, file);
  const before = readFileSync(path, 'utf8');
  let after = before;
  for (const part of parts.filter((p) => p.file === file)) {
    const begin = `<!-- BEGIN ${part.marker} -->`;
    const end = `<!-- END ${part.marker} -->`;
    const from = after.indexOf(begin);
    const to = after.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${path}: no ${begin} ... ${end}`);
    const options = { ...(await prettier.resolveConfig(path)), parser: 'markdown' };
    const body = await prettier.format(part.text, options);
    const next = `${after.slice(0, from + begin.length)}\n\n${body}\n${after.slice(to)}`;
    if (next !== after) drifted.push(`${shown(path)}: ${part.marker.toLowerCase()}`);
    after = next;
  }
  if (!values.check && after !== before) writeFileSync(path, after);
}

// The command reference: oclif's own generator, run on a copy when checking.
const commands = join(docs, 'commands.md');
const scratch = values.check ? mkdtempSync(join(tmpdir(), 'fex-docs-')) : undefined;
const target = scratch ? join(scratch, 'commands.md') : commands;
if (scratch) copyFileSync(commands, target);
const oclif = join(
  dirname(createRequire(import.meta.url).resolve('oclif/package.json')),
  'bin/run.js',
);
const run = spawnSync(
  process.execPath,
  [oclif, 'readme', '--readme-path', target, '--no-source-links', '--no-aliases'],
  {
    cwd: root,
    encoding: 'utf8',
    // Fixed width, so the reference does not depend on the terminal; no update check.
    env: { ...process.env, COLUMNS: '100', OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
  },
);
if (run.status !== 0) throw new Error(`oclif readme failed:\n${run.stderr}`);
if (scratch) {
  if (readFileSync(target, 'utf8') !== readFileSync(commands, 'utf8'))
    drifted.push(`${shown(commands)}: command reference`);
  rmSync(scratch, { recursive: true, force: true });
}

if (values.check && drifted.length > 0) {
  process.stderr.write(
    `Generated docs differ from the code (run npm run docs):\n${drifted.map((d) => `  ${d}\n`).join('')}`,
  );
  process.exit(1);
}
if (!values.check)
  console.log(`docs written: ${relative(root, commands)}, cli.md and protocol.md tables`);
