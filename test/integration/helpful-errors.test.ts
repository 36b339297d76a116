/**
 * Errors that help (issue 12): a misspelt flag, command or value keeps the course's exact first
 * line and adds one line naming what was wrong and the word meant; `-h` and `-v` are help and
 * version; the root help lists each command once. All through the real binary.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, makeUser, startServer, type User } from '../helpers/harness.js';

const PARAMS = 'Error: Command parameters do not match or is not allowed.';
const NOT_FOUND = 'Error: Command not found.';

describe('errors that help', () => {
  let user: User;
  let address: string;

  before(async () => {
    user = await makeUser();
    address = (await startServer()).address;
  });
  after(cleanup);

  it('names a misspelt flag and the one meant, under the exact parameters line', async () => {
    const cases: Array<[string[], string]> = [
      [['dir', '--lng'], 'Unknown flag --lng. Did you mean --long?'],
      [['get', 'x', '--ouput', 'd'], 'Unknown flag --ouput. Did you mean --output?'],
      [['store', 'x', '--sever', 'h:p'], 'Unknown flag --sever. Did you mean --server?'],
      [['store', 'x', '--sever=h:p'], 'Unknown flag --sever. Did you mean --server?'],
      [['dir', '--zzzzzz'], 'Unknown flag --zzzzzz.'],
      [['get'], 'Missing argument <filename>.'],
      [['dir', 'extra'], 'Unexpected argument "extra".'],
      [['serve', '--port', 'abc'], '--port: Expected an integer but received: abc.'],
    ];
    for (const [args, hint] of cases) {
      const r = await user.run(args);
      assert.equal(r.stderr, `${PARAMS}\n${hint}\n`, args.join(' '));
      assert.equal(r.code, 2, args.join(' '));
    }
  });

  it('names a size that does not parse, and what a size is', async () => {
    const r = await user.run(['serve', '--max-file-size', '12XB', '--port', '0']);
    assert.equal(
      r.stderr,
      `${PARAMS}\n--max-file-size: "12XB" is not a size: a number of bytes with an optional unit K, M, G or T, e.g. 500MiB.\n`,
    );
    assert.equal(r.code, 2);
  });

  it('names the key and the file of a bad value in a --config file', async () => {
    const config = join(user.home, 'fex.config.json');
    const cases: Array<[unknown, string]> = [
      [
        { limits: { maxFileSize: '12XB' } },
        `limits.maxFileSize in ${config}: "12XB" is not a size: a number of bytes with an optional unit K, M, G or T, e.g. 500MiB.`,
      ],
      [
        { limits: { maxNameBytes: 300 } },
        `limits.maxNameBytes in ${config}: 300 is not a whole number from 1 to 255.`,
      ],
      [{ port: 'x' }, `port in ${config}: "x" is not a port number from 0 to 65535.`],
    ];
    for (const [content, hint] of cases) {
      await writeFile(config, JSON.stringify(content));
      const r = await user.run(['serve', '--config', config]);
      assert.equal(r.stderr, `${PARAMS}\n${hint}\n`, JSON.stringify(content));
      assert.equal(r.code, 2);
    }
    // A flag's bad value is named as the flag even when a config file is given.
    await writeFile(config, JSON.stringify({ limits: { maxFileSize: '1GiB' } }));
    const r = await user.run(['serve', '--config', config, '--max-connections', '0']);
    assert.match(r.stderr, /\n--max-connections: .*0/);
  });

  it('puts the hint in --json output too', async () => {
    const r = await user.run(['dir', '--lng', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), {
      error: {
        code: 'BAD_PARAMS',
        message: 'Command parameters do not match or is not allowed.',
        exit: 2,
        hint: 'Unknown flag --lng. Did you mean --long?',
      },
    });
  });

  it('says which command was meant for a misspelt one', async () => {
    const r = await user.run(['stor', 'x']);
    assert.equal(r.stderr, `${NOT_FOUND}\nDid you mean fex store?\n`);
    assert.equal(r.code, 2);
    const far = await user.run(['bogus']);
    assert.equal(far.stderr, `${NOT_FOUND}\n`);
  });

  it('says the same in the shell, for slash commands', async () => {
    const lines = [
      '/stor x',
      'store x',
      '/quit',
      '/plugins install x',
      '/dir --lng',
      `/join 127.0.0.1 ${address.split(':')[1]}`,
      '/register Hinted',
      '/get x --ouput d',
      '/exit',
    ];
    const r = await user.run([], { input: `${lines.join('\n')}\n` });
    assert.equal(
      r.stderr,
      [
        NOT_FOUND,
        'Did you mean /store?',
        NOT_FOUND,
        'Did you mean /store?',
        NOT_FOUND,
        'Did you mean /exit?',
        NOT_FOUND,
        'Plugins are added outside the shell: fex plugins install x',
        PARAMS,
        'Unknown flag --lng. Did you mean --long?',
        PARAMS,
        'Unknown flag --ouput. Did you mean --output?',
        '',
      ].join('\n'),
    );
    assert.equal(r.code, 1);
  });

  it('takes -h as help and -v as version', async () => {
    const help = await user.run(['-h']);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, (await user.run(['--help'])).stdout);
    const version = await user.run(['-v']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^fex\/\d+\.\d+\.\d+ \S+ node-v\d+/);
    assert.equal(version.stdout, (await user.run(['--version'])).stdout);
    const dirHelp = await user.run(['dir', '-h']);
    assert.equal(dirHelp.code, 0);
    assert.match(dirHelp.stdout, /--long/);
  });

  it('lists each command once in the root help', async () => {
    const { stdout } = await user.run(['--help']);
    assert.equal(stdout.match(/^ {2}plugins\b/gm)?.length, 1, stdout);
    // A topic with no command of its own name (`operator`, for `operator delete`) is listed once,
    // under TOPICS; a command is never listed again as a topic.
    const listed = [...stdout.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]);
    assert.deepEqual(
      listed.filter((name, i) => listed.indexOf(name) !== i),
      [],
      stdout,
    );
  });
});
