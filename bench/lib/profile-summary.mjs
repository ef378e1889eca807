#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node --cpu-prof` or BENCH_CPU_PROF): top functions by self time,
// and by inclusive (total) time, with their source location shortened to package/file.
//   node bench/lib/profile-summary.mjs <file.cpuprofile> [topN] [filter-regex]
import { readFileSync } from 'node:fs';

const [file, topArg, filter] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-summary.mjs <file.cpuprofile> [topN] [filter-regex]');
  process.exit(2);
}
const top = Number(topArg ?? 40);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const short = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'nm:')
    .replace(/.*\/packages\//, 'pkg:')
    .replace(/.*\/bench\//, 'bench:');
const key = (cf) => `${cf.functionName || '(anon)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
const self = new Map();
const total = new Map();
let all = 0;
for (const [id, t] of dt) {
  all += t;
  const n = byId.get(id);
  const k = key(n.callFrame);
  self.set(k, (self.get(k) ?? 0) + t);
  // inclusive: count once per distinct key along the stack
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const kk = key(byId.get(cur).callFrame);
    if (seen.has(kk)) continue;
    seen.add(kk);
    total.set(kk, (total.get(kk) ?? 0) + t);
  }
}
const re = filter ? new RegExp(filter) : undefined;
const print = (title, m) => {
  console.log(`\n${title} (total ${(all / 1000).toFixed(0)} ms)`);
  [...m]
    .filter(([k]) => !re || re.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, t]) => {
      console.log(`${((t / all) * 100).toFixed(1).padStart(5)}%  ${k}`);
    });
};
print('self time', self);
print('inclusive time', total);
