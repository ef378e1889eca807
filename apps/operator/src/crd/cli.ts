/** `npm run crds` (write) and `npm run crds:check` (verify) entry point. */
import { mkdir } from 'node:fs/promises';
import { staleCrdFiles, writeCrdFiles } from './files.js';

const [mode, dir] = process.argv.slice(2);
if (!dir || (mode !== 'write' && mode !== 'check')) {
  process.stderr.write('usage: crds (write|check) <dir>\n');
  process.exit(2);
}
if (mode === 'write') {
  await mkdir(dir, { recursive: true });
  for (const f of await writeCrdFiles(dir)) process.stdout.write(`wrote ${dir}/${f}\n`);
} else {
  const stale = await staleCrdFiles(dir);
  if (stale.length > 0) {
    process.stderr.write(
      `CRD files out of date (run: npm run crds -w @bastion-mcp/operator):\n  ${stale.join('\n  ')}\n`,
    );
    process.exit(1);
  }
  process.stdout.write('CRD files are up to date\n');
}
