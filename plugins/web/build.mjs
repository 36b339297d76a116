// Builds the page into public/ (`npm run build` runs it): app.js bundled with tus-js-client by
// esbuild, so the page loads nothing from elsewhere and works offline on a LAN.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const here = (path) => new URL(path, import.meta.url).pathname;
await mkdir(here('public'), { recursive: true });
await build({
  entryPoints: [here('page/app.js')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  outfile: here('public/app.js'),
  logLevel: 'warning',
});
await copyFile(here('page/index.html'), here('public/index.html'));
await copyFile(here('page/app.css'), here('public/app.css'));
