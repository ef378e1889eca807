#!/usr/bin/env node
// Generates (write) or verifies (check) deploy/crds/*.yaml from src/api/schemas.ts. Bundles the
// TypeScript sources with esbuild on the fly so it works before any build.
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] === '--check' ? 'check' : 'write';
// inside the app so the bundle resolves its external packages from node_modules
const tmp = await mkdtemp(join(root, '.crds-'));
const out = join(tmp, 'crds.mjs');
try {
  await build({
    entryPoints: [join(root, 'src/crd/cli.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    absWorkingDir: root,
    logLevel: 'error',
  });
  process.argv = [process.argv[0], out, mode, join(root, 'deploy/crds')];
  await import(pathToFileURL(out).href);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
