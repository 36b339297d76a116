/**
 * The shell's pieces without a terminal: how a line splits into words, what Tab offers, and how
 * the command table (plugin commands included) becomes slash commands and `/?`.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Config, type Command } from '@oclif/core';
import { cleanup, ROOT, tempDir } from '../helpers/harness.js';
import { complete, type CompletionSources } from '../../src/shell/completer.js';
import { findShellCommand, helpLines, shellCommands } from '../../src/shell/shell-commands.js';
import { escapeWord, scan, tokenize } from '../../src/shell/tokenize.js';

describe('tokenize', () => {
  it('splits on white space and keeps quoted or escaped spaces', () => {
    assert.deepEqual(tokenize('  /store   Hello.txt  '), ['/store', 'Hello.txt']);
    assert.deepEqual(tokenize('/store "my file.txt"'), ['/store', 'my file.txt']);
    assert.deepEqual(tokenize("/store 'my file.txt'"), ['/store', 'my file.txt']);
    assert.deepEqual(tokenize('/store my\\ file.txt'), ['/store', 'my file.txt']);
    assert.deepEqual(tokenize('/store "say \\"hi\\"" \'a\\b\''), ['/store', 'say "hi"', 'a\\b']);
    assert.deepEqual(tokenize('/get ""'), ['/get', '']);
    assert.deepEqual(tokenize(''), []);
  });

  it('refuses a line with a quote left open', () => {
    assert.equal(tokenize('/store "my file.txt'), undefined);
  });

  it('escapeWord gives back the same word', () => {
    for (const word of ['my file.txt', 'it\'s "x"', 'a\\b', 'tab\there'])
      assert.deepEqual(tokenize(escapeWord(word)), [word]);
  });

  it('scan reports the word being typed', () => {
    assert.deepEqual(scan('/store "my f'), {
      words: ['/store'],
      partial: 'my f',
      partialStart: 7,
      openQuote: '"',
    });
    assert.deepEqual(scan('/store '), {
      words: ['/store'],
      partial: undefined,
      partialStart: 7,
      openQuote: undefined,
    });
  });
});

describe('completion', () => {
  let dir: string;
  let sources: CompletionSources;
  let config: Config;

  before(async () => {
    dir = await tempDir('fex-complete-');
    await writeFile(join(dir, 'Hello.txt'), '');
    await writeFile(join(dir, 'my file.txt'), '');
    await writeFile(join(dir, '.hidden'), '');
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'notes.md'), '');
    config = await Config.load(ROOT);
    sources = {
      commands: shellCommands(config),
      cwd: () => dir,
      serverNames: async () => ['Goodbye.txt', 'Hello.txt', 'Hello world.txt'],
    };
  });
  after(cleanup);

  it('completes command names, with a space where arguments follow', async () => {
    assert.deepEqual(await complete('/st', sources), [['/store '], '/st']);
    assert.deepEqual(await complete('/di', sources), [['/dir'], '/di']);
    assert.deepEqual(await complete('/d', sources), [['/dir', '/delete '], '/d']);
    assert.deepEqual(await complete('/ren', sources), [['/rename '], '/ren']);
    assert.deepEqual(await complete('/op', sources), [[], '/op'], 'operator commands are one-shot');
    assert.deepEqual(await complete('/le', sources), [['/leave'], '/le']);
    assert.deepEqual(await complete('/l', sources), [['/leave', '/login '], '/l']);
    assert.deepEqual(await complete('/e', sources), [['/exit'], '/e']);
    const [all] = await complete('', sources);
    assert.deepEqual(all, [
      '/join ',
      '/leave',
      '/register ',
      '/login ',
      '/store ',
      '/dir',
      '/get ',
      '/delete ',
      '/rename ',
      '/?',
      '/exit',
    ]);
    assert.deepEqual(await complete('/serve', sources), [[], '/serve'], 'not a shell command');
  });

  it('completes local paths for /store, escaping spaces and entering folders', async () => {
    assert.deepEqual(await complete('/store ', sources), [
      ['Hello.txt', 'docs/', 'my\\ file.txt'],
      '',
    ]);
    assert.deepEqual(await complete('/store my', sources), [['my\\ file.txt'], 'my']);
    assert.deepEqual(await complete('/store "my', sources), [['"my file.txt"'], '"my']);
    assert.deepEqual(await complete('/store do', sources), [['docs/'], 'do']);
    assert.deepEqual(await complete('/store docs/', sources), [['docs/notes.md'], 'docs/']);
    assert.deepEqual(await complete('/store .h', sources), [['.hidden'], '.h']);
    assert.deepEqual(await complete('/store nothing/', sources), [[], 'nothing/']);
    assert.deepEqual(await complete('/store Hello.txt ', sources), [[], ''], 'one file only');
  });

  it('completes server names for /delete and the old name of /rename', async () => {
    assert.deepEqual(await complete('/delete Go', sources), [['Goodbye.txt'], 'Go']);
    assert.deepEqual(await complete('/delete "Hello w', sources), [
      ['"Hello world.txt"'],
      '"Hello w',
    ]);
    assert.deepEqual(await complete('/rename Go', sources), [['Goodbye.txt'], 'Go']);
    assert.deepEqual(await complete('/rename Goodbye.txt Go', sources), [[], 'Go'], 'a new name');
  });

  it('completes server names for /get, and local paths after -o', async () => {
    assert.deepEqual(await complete('/get Hel', sources), [
      ['Hello.txt', 'Hello\\ world.txt'],
      'Hel',
    ]);
    assert.deepEqual(await complete("/get 'Hello w", sources), [["'Hello world.txt'"], "'Hello w"]);
    assert.deepEqual(await complete('/get Hello.txt -o d', sources), [['docs/'], 'd']);
  });

  it('offers nothing for arguments that are neither', async () => {
    assert.deepEqual(await complete('/register Us', sources), [[], 'Us']);
    assert.deepEqual(await complete('/join 127', sources), [[], '127']);
  });
});

describe('the command table in the shell', () => {
  /** A plugin's command, as oclif caches it, with a topic and an argument. */
  const pluginCommand = {
    id: 'notes:add',
    summary: 'Add a note.',
    aliases: [],
    hiddenAliases: [],
    hidden: false,
    args: { text: { name: 'text', required: true } },
    flags: {},
    load: async () => {
      throw new Error('not loaded in this test');
    },
  } as unknown as Command.Loadable;

  let config: Config;
  before(async () => {
    config = await Config.load(ROOT);
  });

  /** The real table plus one plugin command, the way oclif would show it. */
  function withPlugin(): Config {
    // The shell reads only these two of the Config.
    const plugged = {
      commands: [...config.commands, pluginCommand],
      findCommand: (id: string) =>
        id === pluginCommand.id ? pluginCommand : config.findCommand(id),
    };
    return plugged as unknown as Config;
  }

  it('lists fex’s commands in the order of a session, then plugins, then /? and /exit', () => {
    assert.deepEqual(
      shellCommands(withPlugin()).map((c) => c.syntax),
      [
        '/join <server_ip_add> <port>',
        '/leave',
        '/register <handle>',
        '/login <handle>',
        '/store <filename>',
        '/dir [--long]',
        '/get <filename> [-o PATH]',
        '/delete <filename>',
        '/rename <old> <new>',
        '/notes add <text>',
        '/?',
        '/exit',
      ],
    );
    assert.ok(helpLines(withPlugin()).includes('/notes add <text>             Add a note.'));
  });

  it('finds a command by its words, the longest topic first', () => {
    const plugged = withPlugin();
    assert.deepEqual(findShellCommand(plugged, ['/notes', 'add', 'hi there']), {
      id: 'notes:add',
      argv: ['hi there'],
    });
    assert.deepEqual(findShellCommand(plugged, ['/store', 'a', 'b']), {
      id: 'store',
      argv: ['a', 'b'],
    });
    const notInShell = [['/serve'], ['/shell'], ['/help'], ['/'], ['store'], ['/notes']];
    for (const words of [...notInShell, ['/operator', 'delete', 'x'], ['/operator:delete']])
      assert.equal(findShellCommand(plugged, words), undefined, words.join(' '));
  });
});
