/**
 * `fex serve`'s storage settings: `--storage s3://BUCKET[/PREFIX]`, `--s3-path-style`,
 * `--s3-part-size` and `--partial-expiry`, from flags or the config file, and their refusals.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FexError } from '../../src/shared/errors.js';
import { resolveServeOptions } from '../../src/server/serve-options.js';
import {
  formatS3Location,
  openStorage,
  parseS3Location,
} from '../../src/server/storage/open-storage.js';
import { LocalStorage } from '../../src/server/storage/local-storage.js';
import { cleanup, tempDir } from '../helpers/harness.js';

const MiB = 1024 * 1024;

function refusedWith(hint: RegExp) {
  return (error: unknown) =>
    error instanceof FexError && error.code === 'BAD_PARAMS' && hint.test(error.hint ?? '');
}

describe('storage settings', () => {
  after(cleanup);

  it('reads s3://BUCKET and s3://BUCKET/PREFIX', () => {
    assert.deepEqual(parseS3Location('s3://fex-files'), { bucket: 'fex-files', prefix: '' });
    assert.deepEqual(parseS3Location('s3://fex-files/'), { bucket: 'fex-files', prefix: '' });
    assert.deepEqual(parseS3Location('s3://b/team/a/'), { bucket: 'b', prefix: 'team/a/' });
    assert.equal(formatS3Location({ bucket: 'b', prefix: 'team/a/' }), 's3://b/team/a');
    for (const bad of ['fex-files', 'http://b', 's3://', 's3:///x', 's3://a b'])
      assert.equal(parseS3Location(bad), undefined, bad);
  });

  it('takes them from flags, else from the config file; none means the local folder', async () => {
    const dir = await tempDir('fex-settings-');
    assert.deepEqual((await resolveServeOptions({}, dir)).storage, {});
    const flags = await resolveServeOptions(
      {
        storage: 's3://b/p',
        's3-path-style': true,
        's3-part-size': '16MiB',
        'partial-expiry': '12h',
      },
      dir,
    );
    assert.deepEqual(flags.storage, {
      s3: { bucket: 'b', prefix: 'p/' },
      s3PathStyle: true,
      s3PartSize: 16 * MiB,
      partialTtlMs: 12 * 3600 * 1000,
    });
    const config = join(dir, 'fex.json');
    await writeFile(
      config,
      JSON.stringify({
        storage: 's3://c',
        s3PathStyle: true,
        s3PartSize: 6 * MiB,
        partialExpiry: '2d',
      }),
    );
    const fromFile = await resolveServeOptions({ config }, dir);
    assert.deepEqual(fromFile.storage, {
      s3: { bucket: 'c', prefix: '' },
      s3PathStyle: true,
      s3PartSize: 6 * MiB,
      partialTtlMs: 2 * 86_400_000,
    });
  });

  it('refuses a location, part size or expiry it cannot use, naming the setting', async () => {
    const dir = await tempDir('fex-settings-');
    await assert.rejects(
      resolveServeOptions({ storage: 'bucket' }, dir),
      refusedWith(/^--storage: "bucket" is not s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX\.$/),
    );
    await assert.rejects(
      resolveServeOptions({ storage: 's3://b', 's3-part-size': '4MiB' }, dir),
      refusedWith(/^--s3-part-size: "4MiB" is not a size of at least 5MiB/),
    );
    await assert.rejects(
      resolveServeOptions({ 'partial-expiry': 'never' }, dir),
      refusedWith(/^--partial-expiry: "never" is not a duration like 1d or 12h/),
    );
    const config = join(dir, 'fex.json');
    await writeFile(config, JSON.stringify({ s3PathStyle: 'yes' }));
    await assert.rejects(
      resolveServeOptions({ config }, dir),
      refusedWith(/^s3PathStyle in .*fex\.json: "yes" is not true or false\.$/),
    );
  });

  it('gives the local folder its partial-upload expiry, and leaves the default alone', async () => {
    const dir = await tempDir('fex-settings-');
    assert.equal(await openStorage({}, dir), undefined);
    assert.ok((await openStorage({ partialTtlMs: 1000 }, dir)) instanceof LocalStorage);
  });
});
