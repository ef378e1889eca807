#!/usr/bin/env node
// Writes (or with --check, verifies) runconfig.schema.json from the zod schema in the built package.
// CI runs `--check` after the build so the committed JSON Schema can never drift from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConfigJsonSchema } from '../dist/index.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'runconfig.schema.json');
const text = `${JSON.stringify(runConfigJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (current !== text) {
    console.error(
      `${target} is out of date: run \`npm run schema -w @bastion-mcp/runner\` and commit the result`,
    );
    process.exit(1);
  }
  console.log('runconfig.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
