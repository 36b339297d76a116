/**
 * The real services a test needs (docs/testing.md), found through the environment that
 * `npm test` (scripts/test.mjs) or `npm run services -- COMMAND` sets: a test asks
 * `needService(t, name)` and gets the value, or is skipped with the Debian package to install,
 * or, in CI, fails: CI installs every one of them, so a missing service there is a broken run,
 * never a quiet skip.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deferCleanup } from '../../src/testing/kit.js';
import { ROOT, tempDir } from './harness.js';

export type ServiceName = 'redis' | 's3' | 'haproxy' | 'chromium';

/** Each service: its variable, what it is, and the Debian packages that provide it. */
export const SERVICES: Record<
  ServiceName,
  { variable: string; what: string; packages: string; startedBy: string }
> = {
  redis: {
    variable: 'FEX_TEST_REDIS_URL',
    what: 'a Redis server',
    packages: 'redis-server',
    startedBy: 'npm test starts one',
  },
  s3: {
    variable: 'FEX_TEST_S3_ENDPOINT',
    what: "an S3 endpoint (OpenStack Swift's s3api)",
    packages: 'swift-proxy swift-account swift-container swift-object memcached',
    startedBy: 'npm test starts one',
  },
  haproxy: {
    variable: 'FEX_TEST_HAPROXY',
    what: 'the haproxy program',
    packages: 'haproxy',
    startedBy: 'npm test finds it',
  },
  chromium: {
    variable: 'FEX_TEST_CHROMIUM',
    what: 'the chromium program',
    packages: 'chromium',
    startedBy: 'npm test finds it',
  },
};

/** How a test run in S3 signs its requests to the test Swift (its tempauth user). */
export const S3_TEST_ACCOUNT = {
  accessKeyId: 'test:tester',
  secretAccessKey: 'testing',
  region: 'us-east-1',
} as const;

/** What needService needs of a test: node:test's TestContext has it. */
export interface Skippable {
  skip(message?: string): void;
}

/** Why `name` is missing (`reason`), the package to install, and how to run one file. */
export function missingMessage(name: ServiceName, reason?: string): string {
  const { variable, what, packages, startedBy } = SERVICES[name];
  return (
    `needs ${what}: ${reason ?? `${variable} is not set`}. ${startedBy} when it is installed ` +
    `(apt-get install ${packages}); for one file: npm run services -- node --test FILE`
  );
}

/** Skips the test, or throws when `CI` is `true` (CI installs every service). */
function absent(t: Skippable, message: string, env: NodeJS.ProcessEnv): undefined {
  if (env.CI === 'true') throw new Error(`CI installs every test service; this test ${message}`);
  t.skip(message);
  return undefined;
}

/**
 * The value of the service `name` (a URL, an endpoint, a program's path). When it is missing,
 * skips the test and returns undefined (`if (!url) return;`), or throws when `CI` is `true`, so
 * that the test fails instead.
 */
export function needService(
  t: Skippable,
  name: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return env[SERVICES[name].variable] || absent(t, missingMessage(name), env);
}

/**
 * needService for a whole `describe` block, decided when the file loads: the value, or the
 * message to give its `skip` option (`describe(..., { skip: redis.skip })`); throws in CI.
 */
export function serviceFor(
  name: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
): { value: string; skip?: undefined } | { value?: undefined; skip: string } {
  let skip = '';
  const value = needService({ skip: (message = '') => (skip = message) }, name, env);
  return value ? { value } : { skip };
}

/** A Redis key prefix no other test uses, so tests sharing one Redis never see each other. */
export function uniquePrefix(what = 'test'): string {
  return `fex-test:${what}:${randomBytes(6).toString('hex')}:`;
}

/** The `--state` URL of the Redis at `base` (DB 0), with a key prefix of its own. */
export function stateUrl(base: string, prefix = uniquePrefix()): string {
  return `${base.replace(/\/+$/, '')}/0?prefix=${prefix}`;
}

/** A Redis of a test's own, to stop and restart under the system under test. */
export interface OwnRedis {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The server's PID (a new one after restart()). */
  pid(): number | undefined;
  /** Stops it (SIGTERM) and waits for its exit: the port is then closed. */
  stop(): Promise<void>;
  /** Starts it again on the same port; with `persist`, with the data acknowledged before. */
  restart(): Promise<void>;
}

interface StartedRedis {
  url: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** scripts/services.mjs, which npm test also runs before any build: one way to start Redis. */
interface ServicesScript {
  findProgram(program: string): string | undefined;
  freePort(): Promise<number>;
  startRedis(options: { dir: string; port?: number; persist?: boolean }): Promise<StartedRedis>;
}

async function servicesScript(): Promise<ServicesScript> {
  // A plain script outside the compiled tree (it runs before `tsc`); its shape is declared here.
  return (await import(
    pathToFileURL(join(ROOT, 'scripts', 'services.mjs')).href
  )) as ServicesScript;
}

/**
 * Starts a redis-server of this test's own on a free port (skipped or failed as needService
 * when redis-server is not installed). `persist` keeps an append-only file synced on every
 * write, so restart() brings back what was acknowledged; without it a restart starts empty.
 * Stopped by the harness's cleanup().
 */
export async function startRedis(
  t: Skippable,
  options: { persist?: boolean } = {},
): Promise<OwnRedis | undefined> {
  const script = await servicesScript();
  if (!script.findProgram('redis-server'))
    return absent(t, missingMessage('redis', 'redis-server is not installed'), process.env);
  const dir = await tempDir('fex-redis-');
  let current = await script.startRedis({ dir, persist: options.persist });
  const port = current.port;
  deferCleanup(() => current.stop());
  return {
    url: current.url,
    port,
    pid: () => current.pid,
    stop: () => current.stop(),
    async restart() {
      await current.stop();
      current = await script.startRedis({ dir, port, persist: options.persist });
    },
  };
}

/** A port of 127.0.0.1 free right now, for a program that cannot bind port 0 and report it. */
export async function freePort(): Promise<number> {
  return (await servicesScript()).freePort();
}
