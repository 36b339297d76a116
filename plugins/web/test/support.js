// @ts-check
// What the web plugin's tests share: the real server with the plugin on a free port, and a real
// headless Chromium driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from 'fex/testing';

export const PLUGIN = fileURLToPath(new URL('..', import.meta.url));
export const MESSAGING = fileURLToPath(new URL('../../messaging', import.meta.url));
export const QUOTA = fileURLToPath(new URL('../../quota', import.meta.url));

/**
 * The Chromium binary: FEX_TEST_CHROMIUM, else `command -v chromium`. (Swapped for
 * test/helpers/services.ts's needService once that is merged.)
 * @returns {string | undefined}
 */
export function chromiumPath() {
  if (process.env.FEX_TEST_CHROMIUM) return process.env.FEX_TEST_CHROMIUM;
  try {
    return (
      execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * Skips a test file without Chromium on a developer's machine; in CI its absence is a failure.
 * @returns {string | undefined} the binary, or undefined when the tests are to be skipped
 */
export function needChromium() {
  const path = chromiumPath();
  if (!path && process.env.CI === 'true')
    throw new Error('FEX_TEST_CHROMIUM is not set and no chromium is on PATH (CI needs it)');
  return path;
}

/** Chromium as root in a container, kept off the network (its own connections are refused). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** @param {string} executablePath */
export function launch(executablePath) {
  // playwright gives every launch a fresh temporary --user-data-dir, and runs it --headless.
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/**
 * `fex serve` with the web plugin on a free port (and `plugins` besides); its page's URL.
 * @param {{ plugins?: import('fex/testing').PluginUnderTest[], limits?: Record<string, unknown>, web?: Record<string, unknown> }} [options]
 */
export async function startWeb(options = {}) {
  const server = await startServer({
    plugins: [{ module: PLUGIN, options: { port: 0, ...options.web } }, ...(options.plugins ?? [])],
    limits: options.limits,
  });
  const line = server.log.find((l) => l.includes('web page at '));
  const url = /web page at (\S+)/.exec(line ?? '')?.[1];
  if (!url) throw new Error(`no web page in the log: ${server.log.join('\n')}`);
  return { server, url };
}
