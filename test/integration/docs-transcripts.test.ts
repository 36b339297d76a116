/**
 * The examples of README.md, docs/cli.md and docs/shell.md, run as written: every ```console
 * block of those documents is a transcript, preceded by `<!-- transcript: OPTIONS -->`, and is
 * played against a fresh real server with the real `fex` on the PATH, in bash, as a reader
 * would type it. If the documents and fex drift apart, this fails.
 *
 * A transcript is either `$ command` lines, each followed by what it prints (stdout and stderr
 * together, in order), or `$ fex` followed by a shell session: prompt lines (`fex> /join ...`)
 * whose commands are piped into one shell, and what the shell prints. In both, `12345` is the
 * port of the test's server, times are compared as times, and the user's folder is shown as
 * `/home/u`. `$ cat FILE` of a file that does not exist yet writes FILE with the lines shown, so
 * a document can show a script and run it. OPTIONS: `files=A,B` (in the user's folder),
 * `dirs=D` (folders there), `stored=A` (stored on the server by another user first).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BIN,
  cleanEnv,
  cleanup,
  makeUser,
  ROOT,
  startServer,
  tempDir,
} from '../helpers/harness.js';

const DOCS = ['README.md', 'docs/cli.md', 'docs/shell.md'];
const PORT = '12345';
const SHOWN_HOME = '/home/u';
const PROMPT = /^(?:fex|fex \S+|\S+@\S+)> (.*)$/;
const MARK = '@@fex-transcript-step@@';

interface Transcript {
  doc: string;
  line: number;
  options: Map<string, string[]>;
  body: string[];
}

function transcripts(doc: string, markdown: string): Transcript[] {
  const found: Transcript[] = [];
  const blocks = /(?:<!-- transcript(?::([^>]*))? -->\n\n)?```console\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(blocks)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    assert.ok(
      match[0].startsWith('<!--'),
      `${doc}:${line}: a console block without <!-- transcript --> is not checked`,
    );
    const options = new Map<string, string[]>();
    for (const word of (match[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const [key = '', value = ''] = word.split('=');
      options.set(key, value.split(','));
    }
    found.push({ doc, line, options, body: match[2]!.replace(/\n$/, '').split('\n') });
  }
  return found;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(input);
  });
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function play(transcript: Transcript): Promise<void> {
  const server = await startServer();
  const user = await makeUser();
  const bin = await tempDir('fex-bin-');
  await symlink(BIN, join(bin, 'fex'));
  const env = cleanEnv(user.home, { PATH: `${bin}:${process.env.PATH ?? ''}` });
  const port = String(server.port);
  const local = (text: string) => text.replaceAll(PORT, port);
  const { options } = transcript;
  for (const name of options.get('files') ?? [])
    await writeFile(join(user.home, name), `${name}, as the reader has it\n`);
  for (const name of options.get('dirs') ?? []) await mkdir(join(user.home, name));
  const other = await makeUser();
  for (const name of options.get('stored') ?? []) {
    await writeFile(join(other.home, name), `${name}, stored by someone else\n`);
    const stored = await other.run(['store', name, '--server', server.address, '--handle', 'Sam']);
    assert.equal(stored.code, 0, stored.stderr);
  }
  // What a reader would see: times as times, the user's folder as the document shows it.
  const seen = (text: string) =>
    text
      .replaceAll(user.home, SHOWN_HOME)
      .replaceAll(port, PORT)
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, 'TIME');

  const where = `${transcript.doc}:${transcript.line}`;
  const [first, ...rest] = transcript.body;
  if (first === '$ fex' && rest.some((line) => PROMPT.test(line))) {
    const input = rest.flatMap((line) => PROMPT.exec(line)?.[1] ?? []).join('\n');
    const expected = rest.filter((line) => !PROMPT.test(line));
    const out = await run('fex', user.home, env, local(`${input}\n`));
    assert.equal(seen(out), seen(`${expected.join('\n')}\n`), where);
    return;
  }
  const steps: Array<{ command: string; expected: string[] }> = [];
  for (const line of transcript.body) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
    else steps.at(-1)?.expected.push(line);
  }
  assert.ok(steps.length > 0, `${where}: no $ command`);
  for (const { command, expected } of steps) {
    const shown = /^cat (\S+)$/.exec(command);
    if (shown && !(await exists(join(user.home, shown[1]!))))
      await writeFile(join(user.home, shown[1]!), local(`${expected.join('\n')}\n`));
  }
  const script = steps.map((step) => `echo ${MARK}\n${local(step.command)}`).join('\n');
  const outputs = (await run(script, user.home, env)).split(`${MARK}\n`).slice(1);
  assert.equal(outputs.length, steps.length, where);
  steps.forEach((step, i) =>
    assert.equal(
      seen(outputs[i]!),
      seen(step.expected.length ? `${step.expected.join('\n')}\n` : ''),
      `${where}: $ ${step.command}`,
    ),
  );
}

describe('the examples of the docs, run as written', async () => {
  after(cleanup);
  const all = (
    await Promise.all(
      DOCS.map(async (doc) => transcripts(doc, await readFile(join(ROOT, doc), 'utf8'))),
    )
  ).flat();

  it('has transcripts in each document', () => {
    for (const doc of DOCS)
      assert.ok(
        all.some((t) => t.doc === doc),
        `${doc} has no transcript`,
      );
  });

  for (const transcript of all)
    it(`${transcript.doc}:${transcript.line}`, { timeout: 60_000 }, () => play(transcript));
});
