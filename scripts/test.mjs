#!/usr/bin/env node
/**
 * `npm test`: starts Redis and Swift (scripts/services.mjs) while the build runs (Swift can take
 * most of a minute to answer on a busy machine), runs the tests with node's test runner on the
 * Node that runs this script, and stops the services by PID whatever happens (a failing test,
 * Ctrl-C). docs/testing.md.
 *
 *   node scripts/test.mjs [--no-build] [FILE.test.js ...]   all tests, or these files
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServices, tail } from './services.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every compiled test of fex and of the first-party plugins. */
function allTests() {
  const found = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
      else if (entry.name.endsWith('.test.js')) found.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, 'dist', 'test'));
  for (const plugin of readdirSync(join(ROOT, 'plugins'), { withFileTypes: true }))
    if (plugin.isDirectory()) {
      const tests = join(ROOT, 'plugins', plugin.name, 'test');
      if (readdirSync(join(ROOT, 'plugins', plugin.name)).includes('test')) walk(tests);
    }
  return found.sort();
}

/** Runs `args` on this Node; resolves with its exit status (signals as 128 + number). */
function run(args, env = process.env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env });
  const done = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
    child.on('error', () => resolve(1));
  });
  return { child, done };
}

const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const files = args.filter((arg) => arg !== '--no-build');

const abort = new AbortController();
const services = startServices({ signal: abort.signal });
let current;
let interrupted = false;
// Ctrl-C reaches every process of the terminal's group: the test runner stops itself; this
// script stays to stop the services. A SIGTERM to this script alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    interrupted = true;
    abort.abort();
    current?.child.kill(signal);
  });

let status = 0;
try {
  if (build) {
    current = run([join(ROOT, 'scripts', 'build-if-stale.mjs')]);
    status = await current.done;
  }
  const { env, report, logs } = await services;
  for (const line of report) console.log(`# ${line}`);
  if (status === 0 && !interrupted) {
    const tests = files.length > 0 ? files : allTests();
    current = run(['--test', '--test-concurrency=2', ...tests], { ...process.env, ...env });
    status = await current.done;
    if (status !== 0 && !interrupted) for (const log of logs) console.error(tail(log, 15));
  }
} finally {
  await (await services).stop();
}
process.exitCode = interrupted ? 130 : status;
