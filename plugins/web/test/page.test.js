// @ts-check
// The page in a real headless Chromium, against the real server and the real fex binary.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, newUser } from 'fex/testing';
import { launch, MESSAGING, needChromium, QUOTA, startWeb } from './support.js';

const chromium = needChromium();
const MAX_FILE = 300_000;
const HOSTILE = '<img src=x onerror=alert(1)>';

/** @param {import('playwright-core').Page} page @param {string} text */
function alertSays(page, text) {
  return page.waitForFunction((t) => document.getElementById('alert')?.textContent === t, text, {
    timeout: 10_000,
  });
}

/** @param {import('playwright-core').Page} page @param {string} handle */
async function claim(page, handle) {
  await page.fill('#claim-handle', handle);
  await page.click('#claim-form button[type=submit]');
}

/** The first line of a failed fex command, as the CLI prints it. @param {{ stderr: string }} r */
const firstLine = (r) => r.stderr.split('\n')[0] ?? '';

describe('the web page', { skip: chromium ? false : 'no Chromium (set FEX_TEST_CHROMIUM)' }, () => {
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('playwright-core').Page} */
  let page;
  /** @type {string} */
  let url;
  /** @type {import('fex/testing').TestUser} */
  let bob;
  /** @type {string[]} */
  let asBob;
  /** @type {string} */
  let address;
  /** @type {string[]} */
  const dialogs = [];
  /** @type {string[]} */
  const requested = [];

  before(async () => {
    const web = await startWeb({
      plugins: [MESSAGING, { module: QUOTA, options: { quota: 500_000 } }],
      limits: { maxFileSize: MAX_FILE },
    });
    url = web.url;
    bob = await newUser({ link: [MESSAGING] });
    address = web.server.address;
    asBob = ['--server', address, '--handle', 'Bob'];
    browser = await launch(/** @type {string} */ (chromium));
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (request) => requested.push(request.url()));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(url);
  });
  after(async () => {
    await browser?.close();
    await cleanup();
  });

  it('claims a handle and shows its credential once', async () => {
    await claim(page, 'Ann');
    await page.locator('#who', { hasText: 'Signed in as Ann.' }).waitFor();
    assert.equal(await page.locator('#claim-form').isVisible(), false);
    assert.equal(await page.locator('#files').isVisible(), true);
    const credential = await page.textContent('#credential');
    assert.match(String(credential), /^\S{20,}$/);
    // Not in a cookie the page can read, nor in any address the page asked for.
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.ok(!requested.some((address) => address.includes(String(credential))));
    await page.click('#credential-done');
    assert.equal(await page.textContent('#credential'), '');
  });

  it('refuses a handle already taken, and a bad one, in the CLI’s words', async () => {
    const other = await browser.newPage();
    await other.goto(url);
    await claim(other, 'Ann');
    const taken = firstLine(await bob.run(['register', 'Ann', '--server', address]));
    assert.equal(taken, 'Error: Registration failed. Handle or alias already exists.');
    await alertSays(other, taken);
    await claim(other, 'no spaces');
    const bad = firstLine(await bob.run(['register', 'no spaces', '--server', address]));
    await alertSays(other, bad);
    assert.equal(await other.textContent('#who'), 'Not signed in.');
    await other.close();
  });

  it('uploads a file with its progress, rate and time left', async () => {
    await page.evaluate(() => {
      const seen = /** @type {string[]} */ ([]);
      Object.assign(window, { seen });
      new MutationObserver(() => {
        for (const span of document.querySelectorAll('#uploads li span:last-child'))
          seen.push(String(span.textContent));
      }).observe(/** @type {HTMLElement} */ (document.getElementById('uploads')), {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    const bytes = Buffer.alloc(100_000, 7);
    await page.setInputFiles('#file-input', {
      name: 'Report.bin',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    const item = page.locator('#uploads li', { hasText: 'Report.bin' });
    await item.locator('span', { hasText: 'Stored 97.7 KiB.' }).waitFor();
    const seen = await page.evaluate(() => /** @type {any} */ (window).seen);
    assert.ok(
      seen.some((/** @type {string} */ s) => /of 97\.7 KiB, .*\/s, .* left/.test(s)),
      seen.join('\n'),
    );
    assert.equal(await item.locator('progress').getAttribute('aria-label'), 'Uploading Report.bin');
    await page.locator('#file-rows a', { hasText: 'Report.bin' }).waitFor();
    // The server holds it as Ann's, byte for byte: fex get by another user.
    const got = await bob.run(['get', 'Report.bin', ...asBob]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(await readFile(join(bob.home, 'Report.bin')), bytes);
  });

  it('shows a file the CLI stores as it happens, and downloads it byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await writeFile(join(bob.home, 'From-cli.bin'), bytes);
    const stored = await bob.run(['store', 'From-cli.bin', ...asBob]);
    assert.equal(stored.code, 0, stored.stderr);
    const link = page.locator('#file-rows a', { hasText: 'From-cli.bin' });
    await link.waitFor();
    await page.locator('#live', { hasText: 'Bob uploaded From-cli.bin.' }).waitFor();
    const row = page.locator('#file-rows tr', {
      has: page.locator('a', { hasText: 'From-cli.bin' }),
    });
    assert.equal(await row.locator('td').nth(2).textContent(), 'Bob');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'From-cli.bin');
    assert.deepEqual(await readFile(await download.path()), bytes);
  });

  it('shows each refusal in the words the CLI prints', async () => {
    /** @param {string} name @param {number} size */
    const upload = (name, size) =>
      page.setInputFiles('#file-input', {
        name,
        mimeType: 'application/octet-stream',
        buffer: Buffer.alloc(size, 1),
      });
    // Not the owner: Bob's file.
    await upload('From-cli.bin', 10);
    await writeFile(join(bob.home, 'From-cli.bin'), Buffer.alloc(10, 1));
    const carol = ['--server', address, '--handle', 'Carol'];
    const notOwner = firstLine(await bob.run(['store', 'From-cli.bin', ...carol]));
    assert.match(
      notOwner,
      /^Error: From-cli\.bin belongs to Bob; only its owner may replace it\.$/,
    );
    await alertSays(page, notOwner);
    // A bad name.
    await upload('CON.txt', 10);
    await writeFile(join(bob.home, 'CON.txt'), Buffer.alloc(10, 1));
    const badName = firstLine(await bob.run(['store', 'CON.txt', ...carol]));
    assert.match(badName, /^Error: File name refused: /);
    await alertSays(page, badName);
    // Too large for the server.
    await upload('Huge.bin', MAX_FILE + 1);
    await writeFile(join(bob.home, 'Huge.bin'), Buffer.alloc(MAX_FILE + 1, 1));
    const tooLarge = firstLine(await bob.run(['store', 'Huge.bin', ...carol]));
    assert.match(tooLarge, /^Error: File too large: /);
    await alertSays(page, tooLarge);
    // Over Ann's quota, in the quota plugin's words: Ann keeps 100000 + 250000 bytes.
    await upload('Second.bin', 250_000);
    await page.locator('#uploads li span', { hasText: 'Stored 244.1 KiB.' }).waitFor();
    await upload('More.bin', 200_000);
    await alertSays(
      page,
      'Error: Quota exceeded: Ann keeps 350000 of 500000 bytes here, and this file needs 200000.',
    );
    const failed = page.locator('#uploads li.failed');
    assert.equal(await failed.count(), 4);
    assert.equal(await page.locator('#file-rows a', { hasText: 'CON.txt' }).count(), 0);
  });

  it('renders a hostile file name as text, never as HTML', async () => {
    await writeFile(join(bob.home, HOSTILE), 'x');
    const stored = await bob.run(['store', HOSTILE, ...asBob]);
    assert.equal(stored.code, 0, stored.stderr);
    const link = page.locator('#file-rows a', { hasText: HOSTILE });
    await link.waitFor();
    assert.equal(await link.textContent(), HOSTILE);
    assert.equal(await page.locator('#file-rows img').count(), 0);
    assert.deepEqual(dialogs, []);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename().length > 0, true);
    assert.equal(await readFile(await download.path(), 'utf8'), 'x');
  });

  it('sorts and filters the listing', async () => {
    await page.click('thead button[data-key=size]');
    assert.equal(await page.getAttribute('thead th:nth-child(2)', 'aria-sort'), 'ascending');
    const sizes = await page.locator('#file-rows td.size').allTextContents();
    assert.equal(sizes[0], '1 bytes');
    await page.fill('#filter', 'report');
    assert.deepEqual(await page.locator('#file-rows a').allTextContents(), ['Report.bin']);
    await page.fill('#filter', '');
  });

  it('shows and sends messages when the messaging plugin is loaded', async () => {
    await page.locator('#messages').waitFor();
    const sent = await bob.run(['broadcast', 'hello from the shell', ...asBob]);
    assert.equal(sent.code, 0, sent.stderr);
    await page.locator('#message-log li', { hasText: 'Bob<' }).waitFor();
    assert.match(
      String(await page.textContent('#message-log')),
      /Bob<[^>]+>: hello from the shell/,
    );
    await page.fill('#message-text', 'hi everyone');
    await page.press('#message-text', 'Enter');
    await page.locator('#message-log li', { hasText: 'Ann<' }).waitFor();
    await page.fill('#message-to', 'Nobody');
    await page.fill('#message-text', 'anyone?');
    await page.press('#message-text', 'Enter');
    await alertSays(page, 'Error: No user "Nobody" is registered on this server.');
  });

  it('works by keyboard alone: claim, upload, sort, download, sign out', async () => {
    const kb = await browser.newPage();
    // Listening before any key is pressed, so the file chooser is intercepted from the start.
    /** @type {Promise<import('playwright-core').FileChooser>} */
    const chooserShown = new Promise((resolve) => kb.once('filechooser', resolve));
    await kb.goto(url);
    /** Tabs until `selector` has the focus (at most 40 presses). @param {string} selector */
    const tabTo = async (selector) => {
      for (let i = 0; i < 40; i++) {
        if (await kb.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
        await kb.keyboard.press('Tab');
      }
      assert.fail(`Tab never reached ${selector}`);
    };
    await tabTo('#claim-handle');
    await kb.keyboard.type('Kim');
    await kb.keyboard.press('Enter');
    await kb.locator('#who', { hasText: 'Signed in as Kim.' }).waitFor();
    // The focus went to the button that hides the credential.
    await kb.keyboard.press('Enter');
    await tabTo('#file-input');
    await kb.keyboard.press('Space');
    const chooser = await chooserShown;
    await chooser.setFiles({
      name: 'Keys.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('typed'),
    });
    await kb.locator('#uploads li span', { hasText: 'Stored' }).waitFor();
    await tabTo('thead button[data-key=owner]');
    await kb.keyboard.press('Enter');
    assert.equal(await kb.getAttribute('thead th:nth-child(3)', 'aria-sort'), 'ascending');
    await tabTo('#file-rows a[aria-label="Download Keys.txt"]');
    const [download] = await Promise.all([kb.waitForEvent('download'), kb.keyboard.press('Enter')]);
    assert.equal(await readFile(await download.path(), 'utf8'), 'typed');
    await tabTo('#sign-out');
    await kb.keyboard.press('Enter');
    await kb.locator('#who', { hasText: 'Not signed in.' }).waitFor();
    await kb.close();
  });

  it('fits a phone-sized screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 360, height: 740 } });
    await phone.goto(url);
    await phone.locator('#claim-handle').waitFor();
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 360, `the page is ${wide}px wide`);
    await phone.close();
  });
});
