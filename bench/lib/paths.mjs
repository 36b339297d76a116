/**
 * Where the bench lives: modules under bench/lib/ and bench/sections/ find the worker scripts and
 * the checkout from here, not from their own location.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(BENCH, '..');
