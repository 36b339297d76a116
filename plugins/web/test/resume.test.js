// @ts-check
// A large upload cut off by a page reload goes on from the bytes the server holds, and the file
// is then fetched byte-identical with the real `fex get`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, newUser } from 'fex/testing';
import { launch, needChromium, startWeb } from './support.js';

const chromium = needChromium();
const SIZE = 24 * 1024 * 1024;

describe('a large upload on the page', { skip: chromium ? false : 'no Chromium' }, () => {
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {Awaited<ReturnType<typeof startWeb>>} */
  let web;
  /** @type {import('fex/testing').TestUser} */
  let user;

  before(async () => {
    web = await startWeb();
    user = await newUser();
    browser = await launch(/** @type {string} */ (chromium));
  });
  after(async () => {
    await browser?.close();
    await cleanup();
  });

  it('goes on after a reload from the bytes already held', async () => {
    const bytes = randomBytes(SIZE);
    const path = join(user.home, 'Big.bin');
    await writeFile(path, bytes);
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(web.url);
    await page.fill('#claim-handle', 'Rae');
    await page.press('#claim-handle', 'Enter');
    await page.locator('#who', { hasText: 'Signed in as Rae.' }).waitFor();
    // A slow link, so the reload lands in the middle of the upload.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const link = { offline: false, latency: 0, downloadThroughput: -1 };
    await cdp.send('Network.emulateNetworkConditions', { ...link, uploadThroughput: 4 << 20 });
    await page.setInputFiles('#file-input', path);
    await page.waitForFunction(
      () => Number(document.querySelector('#uploads progress')?.getAttribute('value')) > 2 << 20,
    );
    await page.reload();
    await cdp.send('Network.emulateNetworkConditions', { ...link, uploadThroughput: -1 });
    await page.locator('#who', { hasText: 'Signed in as Rae.' }).waitFor();
    await page.setInputFiles('#file-input', path);
    const item = page.locator('#uploads li');
    await item.locator('span', { hasText: 'Stored 24.0 MiB.' }).waitFor();
    const resumedAt = Number(await item.getAttribute('data-resumed-from'));
    assert.ok(resumedAt > 2 << 20 && resumedAt < SIZE, `resumed at ${resumedAt}`);
    assert.match(String(await item.locator('span').first().textContent()), /resumed at \d/);
    // One store on the server, whole, byte for byte as `fex get` fetches it.
    const got = await user.run([
      'get',
      'Big.bin',
      '--server',
      web.server.address,
      '--handle',
      'Sam',
    ]);
    assert.equal(got.code, 0, got.stderr);
    assert.ok((await readFile(join(user.home, 'Big.bin'))).equals(bytes));
    assert.equal(web.server.log.filter((l) => /Rae stored Big\.bin/.test(l)).length, 1);
  });
});
