/**
 * The Redis the tests share, found through FEX_TEST_REDIS_URL (`redis://127.0.0.1:PORT`). Absent
 * locally, the tests that need it are skipped with this message; absent in CI (`CI=true`), they
 * fail. Every test keeps to a key prefix of its own (`uniquePrefix()`), so tests running at once
 * never see each other's keys. (To be replaced by test/helpers/services.ts's needService.)
 */
import { randomBytes } from 'node:crypto';

const MISSING =
  'FEX_TEST_REDIS_URL is not set: start a redis-server (redis-server --port 6390 --save "") and set FEX_TEST_REDIS_URL=redis://127.0.0.1:6390';

/** The Redis URL, or undefined with the reason a test should skip; throws in CI. */
export function testRedis(): { url: string; skip?: undefined } | { url?: undefined; skip: string } {
  const url = process.env.FEX_TEST_REDIS_URL;
  if (url) return { url: url.replace(/\/+$/, '') };
  if (process.env.CI === 'true') throw new Error(`${MISSING} (required in CI)`);
  return { skip: MISSING };
}

/** A key prefix no other test uses. */
export function uniquePrefix(what = 'test'): string {
  return `fex-test:${what}:${randomBytes(6).toString('hex')}:`;
}

/** The `--state` URL of `base` with a prefix of its own. */
export function stateUrl(base: string, prefix = uniquePrefix()): string {
  return `${base}/0?prefix=${prefix}`;
}
