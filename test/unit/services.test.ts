/**
 * needService (test/helpers/services.ts): the value when the service is there; when it is
 * missing, a skip that names the Debian package locally, and a failure in CI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/harness.js';
import { missingMessage, needService, SERVICES, type ServiceName } from '../helpers/services.js';

/** Runs the fixture under node's real test runner with exactly `env`; its status and TAP. */
function runFixture(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const fixture = join(ROOT, 'dist', 'test', 'fixtures', 'services', 'need-redis.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', fixture], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

function recorder() {
  const skips: Array<string | undefined> = [];
  return { skips, skip: (message?: string) => void skips.push(message) };
}

describe('needService', () => {
  it('returns the variable of each service when it is set, and skips nothing', () => {
    for (const name of Object.keys(SERVICES) as ServiceName[]) {
      const t = recorder();
      const env = { [SERVICES[name].variable]: `value-of-${name}`, CI: 'true' };
      assert.equal(needService(t, name, env), `value-of-${name}`);
      assert.deepEqual(t.skips, []);
    }
  });

  it('skips with the variable and the Debian package to install when it is missing locally', () => {
    const cases: Array<[ServiceName, RegExp]> = [
      ['redis', /FEX_TEST_REDIS_URL is not set.*apt-get install redis-server\b/],
      [
        's3',
        /FEX_TEST_S3_ENDPOINT.*apt-get install swift-proxy swift-account swift-container swift-object memcached/,
      ],
      ['haproxy', /FEX_TEST_HAPROXY.*apt-get install haproxy\b/],
      ['chromium', /FEX_TEST_CHROMIUM.*apt-get install chromium\b/],
    ];
    for (const [name, words] of cases)
      for (const CI of [undefined, 'false', '1']) {
        const t = recorder();
        assert.equal(needService(t, name, CI === undefined ? {} : { CI }), undefined);
        assert.equal(t.skips.length, 1);
        assert.match(t.skips[0]!, words);
        assert.match(t.skips[0]!, /npm run services -- node --test FILE/);
      }
  });

  it('throws instead of skipping when CI is true, and an empty value counts as missing', () => {
    const t = recorder();
    assert.throws(
      () => needService(t, 'redis', { CI: 'true', FEX_TEST_REDIS_URL: '' }),
      (error: Error) =>
        error.message.includes(missingMessage('redis')) && /^CI /.test(error.message),
    );
    assert.deepEqual(t.skips, []);
  });

  it('is a skip under the real test runner locally and a failure in CI', async () => {
    const local = await runFixture({});
    assert.equal(local.code, 0, local.out);
    assert.match(
      local.out,
      /^ok 1 - uses redis # SKIP needs a Redis server: FEX_TEST_REDIS_URL is not set/m,
    );

    const ci = await runFixture({ CI: 'true' });
    assert.equal(ci.code, 1, ci.out);
    assert.match(ci.out, /^not ok 1 - uses redis$/m);
    assert.match(ci.out, /CI installs every test service/);

    const given = await runFixture({ CI: 'true', FEX_TEST_REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(given.code, 0, given.out);
    assert.match(given.out, /^ok 1 - uses redis$/m);
  });
});
