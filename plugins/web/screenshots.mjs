// Takes docs/web.md's screenshots from the real page (`npm run docs:web`): the real server with
// the web and messaging plugins, the real fex binary storing files, headless Chromium.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanup, newUser } from 'fex/testing';
import { launch, MESSAGING, needChromium, startWeb } from './test/support.js';

const out = new URL('../../docs/web/', import.meta.url).pathname;
const chromium = needChromium();
if (!chromium) throw new Error('No Chromium: set FEX_TEST_CHROMIUM');
await mkdir(out, { recursive: true });
const web = await startWeb({ plugins: [MESSAGING] });
const browser = await launch(chromium);
try {
  const bob = await newUser({ link: [MESSAGING] });
  const asBob = ['--server', web.server.address, '--handle', 'Bob'];
  for (const [name, size] of [
    ['Budget-2026.xlsx', 48_213],
    ['Holiday photos.zip', 73_400_320],
    ['notes.txt', 1_204],
  ]) {
    await writeFile(join(bob.home, name), Buffer.alloc(size, 1));
    await bob.run(['store', name, ...asBob]);
  }
  const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  await page.goto(web.url);
  await page.fill('#claim-handle', 'Ann');
  await page.screenshot({ path: join(out, 'claim.png') });
  await page.press('#claim-handle', 'Enter');
  await page.locator('#who', { hasText: 'Signed in as Ann.' }).waitFor();
  await page.locator('#credential').evaluate((el) => (el.textContent = '(shown once here)'));
  await page.click('#credential-done');
  await page.setInputFiles('#file-input', {
    name: 'Report.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.alloc(250_000, 2),
  });
  await page.locator('#uploads li span', { hasText: 'Stored' }).waitFor();
  await bob.run(['broadcast', 'The budget is up, have a look', ...asBob]);
  await page.locator('#message-log li').waitFor();
  await page.setInputFiles('#file-input', {
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('mine now?'),
  });
  await page.locator('#alert').waitFor();
  await page.screenshot({ path: join(out, 'files.png'), fullPage: true });
  // The owner's rename in place, on a file of Ann's own.
  await page.click('button[aria-label="Rename Report.pdf"]');
  await page.locator('input[aria-label="New name for Report.pdf"]').fill('Report-final.pdf');
  await page.locator('#files').screenshot({ path: join(out, 'rename.png') });
  await page.keyboard.press('Escape');
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(web.url);
  await phone.fill('#claim-handle', 'Ann');
  await phone.press('#claim-handle', 'Enter');
  await phone.locator('#alert').waitFor();
  await phone.screenshot({ path: join(out, 'phone.png') });
} finally {
  await browser.close();
  await cleanup();
}
