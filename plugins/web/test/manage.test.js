// @ts-check
// Owners manage their files on the page: rename and delete, each a fex request, seen live by
// `fex dir`, `fex get` and a second browser; the buttons only on the signed-in handle's own files,
// and the core's refusals (another's file, a bad or clashing name) in the CLI's words.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, newUser } from 'fex/testing';
import { launch, needChromium, startWeb } from './support.js';

const chromium = needChromium();

/** The first line of a failed fex command, as the CLI prints it. @param {{ stderr: string }} r */
const firstLine = (r) => r.stderr.split('\n')[0] ?? '';

/** @param {import('playwright-core').Page} page @param {string} text */
function alertSays(page, text) {
  return page.waitForFunction((t) => document.getElementById('alert')?.textContent === t, text, {
    timeout: 10_000,
  });
}

/** @param {import('playwright-core').Page} page @param {string[]} names */
function waitForNames(page, names) {
  return page.waitForFunction(
    (want) =>
      JSON.stringify(
        [...document.querySelectorAll('#file-rows tr td:first-child a')]
          .map((a) => a.textContent)
          .sort(),
      ) === JSON.stringify([...want].sort()),
    names,
    { timeout: 10_000 },
  );
}

describe(
  'owners manage their files on the page',
  {
    skip: chromium ? false : 'no Chromium (set FEX_TEST_CHROMIUM)',
  },
  () => {
    /** @type {import('playwright-core').Browser} */
    let browser;
    /** @type {import('playwright-core').Page} */
    let ann;
    /** @type {import('playwright-core').Page} */
    let bobPage;
    /** @type {import('fex/testing').TestUser} */
    let bob;
    /** @type {string[]} */
    let asBob;
    /** @type {string} */
    let address;

    before(async () => {
      const web = await startWeb();
      address = web.server.address;
      bob = await newUser();
      asBob = ['--server', address, '--handle', 'Bob'];
      browser = await launch(/** @type {string} */ (chromium));
      // Two browsers of their own (separate cookies): Ann, and Bob signed in with his credential.
      ann = await (await browser.newContext()).newPage();
      bobPage = await (await browser.newContext()).newPage();
      for (const page of [ann, bobPage]) page.setDefaultTimeout(10_000);
      await ann.goto(web.url);
      await ann.fill('#claim-handle', 'Ann');
      await ann.click('#claim-form button[type=submit]');
      await ann.click('#credential-done');
      const registered = await bob.run(['register', 'Bob', '--server', address]);
      assert.equal(registered.code, 0, registered.stderr);
      /** @type {Record<string, string>} */
      const bobs = { 'Bobs.txt': 'Bob kept this', 'Taken.txt': 'Bob has this name' };
      for (const [name, body] of Object.entries(bobs)) {
        await writeFile(join(bob.home, name), body);
        assert.equal((await bob.run(['store', name, ...asBob])).code, 0);
      }
      await bobPage.goto(web.url);
      await bobPage.fill('#login-handle', 'Bob');
      await bobPage.fill('#login-credential', await credentialOf(bob));
      await bobPage.click('#login-form button[type=submit]');
      await bobPage.locator('#who', { hasText: 'Signed in as Bob.' }).waitFor();
      await ann.setInputFiles('#file-input', {
        name: 'Draft.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('Ann wrote this'),
      });
      await waitForNames(ann, ['Bobs.txt', 'Draft.txt', 'Taken.txt']);
      await waitForNames(bobPage, ['Bobs.txt', 'Draft.txt', 'Taken.txt']);
    });
    after(async () => {
      await browser?.close();
      await cleanup();
    });

    it('shows rename and delete only on the signed-in handle’s own files', async () => {
      const own = ann.locator('#file-rows tr', { hasText: 'Draft.txt' });
      assert.deepEqual(await own.locator('td.actions button').allTextContents(), [
        'Rename',
        'Delete',
      ]);
      const others = ann.locator('#file-rows tr', { hasText: 'Bobs.txt' });
      assert.equal(await others.locator('td.actions button').count(), 0);
      assert.equal(
        await bobPage.locator('#file-rows tr', { hasText: 'Draft.txt' }).locator('button').count(),
        0,
      );
    });

    it('renames by keyboard: seen by fex dir and live in a second browser', async () => {
      await ann.focus('button[aria-label="Rename Draft.txt"]');
      await ann.keyboard.press('Enter');
      const field = ann.locator('input[aria-label="New name for Draft.txt"]');
      await field.waitFor();
      assert.equal(
        await ann.evaluate(() => document.activeElement?.getAttribute('aria-label')),
        'New name for Draft.txt',
      );
      // Escape leaves the name as it was, and the focus on its button.
      await ann.keyboard.press('Escape');
      await ann.locator('button[aria-label="Rename Draft.txt"]:focus').waitFor();
      await ann.keyboard.press('Enter');
      await field.waitFor();
      await ann.keyboard.press('ControlOrMeta+a');
      await ann.keyboard.type('Final.txt');
      await ann.keyboard.press('Enter');
      await waitForNames(ann, ['Bobs.txt', 'Final.txt', 'Taken.txt']);
      await ann.locator('button[aria-label="Rename Final.txt"]:focus').waitFor();
      const dir = await bob.run(['dir', ...asBob]);
      assert.equal(dir.stdout, 'Server Directory\nBobs.txt\nFinal.txt\nTaken.txt\n');
      // Bob's page heard it from the server, without a reload.
      await waitForNames(bobPage, ['Bobs.txt', 'Final.txt', 'Taken.txt']);
      const got = await bob.run(['get', 'Final.txt', '-o', 'final-copy.txt', ...asBob]);
      assert.equal(got.code, 0, got.stderr);
    });

    it('refuses a rename in the CLI’s words, and keeps the form', async () => {
      await ann.click('button[aria-label="Rename Final.txt"]');
      const field = ann.locator('input[aria-label="New name for Final.txt"]');
      for (const to of ['taken.TXT', 'CON.txt']) {
        await field.fill(to);
        await field.press('Enter');
        // The CLI's words for the same rename of one's own file (Bob's, from his shell).
        const cli = firstLine(await bob.run(['rename', 'Bobs.txt', to, ...asBob]));
        assert.match(cli, /^Error: File name refused: /);
        await alertSays(ann, cli);
        assert.equal(await field.inputValue(), to);
      }
      await ann.click('button[aria-label="Keep the name Final.txt"]');
      await waitForNames(ann, ['Bobs.txt', 'Final.txt', 'Taken.txt']);
    });

    it('deletes after asking: fex get then answers not found, and the second browser sees it go', async () => {
      await ann.click('button[aria-label="Delete Final.txt"]');
      // Asked first; the focus is on "Keep", so a stray Enter deletes nothing.
      await ann.locator('button[aria-label="No, keep Final.txt"]:focus').waitFor();
      await ann.keyboard.press('Enter');
      await ann.locator('button[aria-label="Delete Final.txt"]:focus').waitFor();
      await ann.keyboard.press('Enter');
      await ann.click('button[aria-label="Yes, delete Final.txt"]');
      await waitForNames(ann, ['Bobs.txt', 'Taken.txt']);
      const got = await bob.run(['get', 'Final.txt', ...asBob]);
      assert.equal(got.stderr, 'Error: File not found in the server.\n');
      await waitForNames(bobPage, ['Bobs.txt', 'Taken.txt']);
      await bobPage.locator('#live', { hasText: 'Ann deleted Final.txt.' }).waitFor();
    });

    it('refuses a non-owner’s rename and delete in the CLI’s words, with the CSRF token or without', async () => {
      // Bob's page shows no button on Ann's files; a request made by hand is refused by fex.
      await ann.setInputFiles('#file-input', {
        name: 'Ours.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('Ann again'),
      });
      await waitForNames(bobPage, ['Bobs.txt', 'Ours.txt', 'Taken.txt']);
      const answers = await bobPage.evaluate(async () => {
        const { csrf } = await (await fetch('/api/session')).json();
        /** @param {string} path @param {unknown} body @param {Record<string, string>} headers */
        const post = async (path, body, headers) => {
          const response = await fetch(path, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...headers },
            body: JSON.stringify(body),
          });
          return { status: response.status, ...(await response.json()) };
        };
        return [
          await post('/api/delete', { name: 'Ours.txt' }, { 'X-Fex-CSRF': csrf }),
          await post('/api/rename', { name: 'Ours.txt', to: 'Mine.txt' }, { 'X-Fex-CSRF': csrf }),
          await post('/api/delete', { name: 'Ours.txt' }, {}),
        ];
      });
      const deleteLine = firstLine(await bob.run(['delete', 'Ours.txt', ...asBob]));
      const renameLine = firstLine(await bob.run(['rename', 'Ours.txt', 'Mine.txt', ...asBob]));
      assert.equal(deleteLine, 'Error: Ours.txt belongs to Ann; only its owner may delete it.');
      assert.equal(renameLine, 'Error: Ours.txt belongs to Ann; only its owner may rename it.');
      assert.deepEqual(
        answers.map((a) => [a.status, `Error: ${a.error.message}`]),
        [
          [403, deleteLine],
          [403, renameLine],
          [403, 'Error: Refused: this page is out of date; reload it.'],
        ],
      );
      const dir = await bob.run(['dir', ...asBob]);
      assert.equal(dir.stdout, 'Server Directory\nBobs.txt\nOurs.txt\nTaken.txt\n');
    });
  },
);

/**
 * The credential `fex register` saved for the user's handle.
 * @param {import('fex/testing').TestUser} user
 */
async function credentialOf(user) {
  const state = JSON.parse(await readFile(join(user.home, 'config', 'fex', 'state.json'), 'utf8'));
  const [entry] = Object.values(state.servers);
  const [held] = Object.values(
    /** @type {{ credentials: Record<string, { credential: string }> }} */ (entry).credentials,
  );
  return /** @type {{ credential: string }} */ (held).credential;
}
