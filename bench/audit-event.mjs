#!/usr/bin/env node
// CPU per audited request of the audit layer alone, in-process: a tools/call exchange (JWT identity,
// authz allow, JSON answer) through the audit middleware into a file sink, 16 requests at a time,
// then the sink is flushed. µs of CPU per event = process.cpuUsage() delta / N. Rounds interleave the
// builds compared (`AUDIT_BENCH_BASELINE=<checkout>` adds that checkout's built packages).
//
//   node bench/audit-event.mjs                         # this checkout
//   AUDIT_BENCH_BASELINE=/tmp/base node bench/audit-event.mjs
//   AUDIT_BENCH_PAYLOADS=1 ...                         # with payload recording on
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const builds = [['this', root]];
if (process.env.AUDIT_BENCH_BASELINE) builds.unshift(['base', process.env.AUDIT_BENCH_BASELINE]);
const rounds = Number(process.env.AUDIT_BENCH_ROUNDS ?? 7);
const perRound = Number(process.env.AUDIT_BENCH_EVENTS ?? 20000);
const payloads = process.env.AUDIT_BENCH_PAYLOADS === '1';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJzdWIiOiJiZW5jaC11c2VyIiwiZ3JvdXBzIjpbImVuZ2luZWVyaW5nIl19.' +
  'c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLWJlbmNobWFyay1wdXJwb3Nlcy1vbmx5LTEyMzQ1Njc4OTA';
const dir = mkdtempSync(join(tmpdir(), 'audit-bench-'));

async function load(name, base) {
  const core = await import(pathToFileURL(join(base, 'packages/proxy-core/dist/index.js')).href);
  const audit = await import(pathToFileURL(join(base, 'packages/audit/dist/index.js')).href);
  const mw = audit.createAuditMiddleware({
    sinks: [{ type: 'file', path: join(dir, `${name}.jsonl`) }],
    queueSize: perRound * 2,
    ...(payloads ? { payloads: {} } : {}),
  });
  let seq = 0;
  const rpc = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello bastion' } },
  };
  const makeExchange = () => {
    const ex = new core.Exchange({
      request: {
        method: 'POST',
        path: '/mcp',
        query: '',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          authorization: `Bearer ${JWT}`,
          'user-agent': 'undici',
          host: '127.0.0.1:40000',
        },
        body: Buffer.from(JSON.stringify(rpc)),
        remoteAddress: '127.0.0.1',
        protocol: 'http',
      },
      requestId: `0b6f1d0e-6a43-4bd6-9d3f-${String(++seq).padStart(12, '0')}`,
      serverName: 'bench',
      route: 'streamable',
      rpc: JSON.parse(JSON.stringify(rpc)),
      upstreamHeaders: {},
      signal: new AbortController().signal,
    });
    ex.identity = {
      subject: 'bench-user',
      groups: ['engineering'],
      roles: [],
      scopes: [],
      claims: {
        sub: 'bench-user',
        groups: ['engineering'],
        aud: 'https://bench.bastion.test/mcp',
        iss: 'http://127.0.0.1:1',
        iat: 1,
        exp: 2,
      },
      tokenKind: 'jwt',
    };
    ex.notes.authz = { decision: 'allow', policyIds: ['engineering'] };
    return ex;
  };
  const answer = () =>
    core.jsonResponse(200, {
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'hello bastion' }] },
    });
  return {
    name,
    mw,
    async round() {
      const start = process.cpuUsage();
      // 16 requests at a time, then a turn of the event loop: events arrive from I/O callbacks as in
      // the server, so the file sink's queue gathers them into batches (without the turn, every
      // event would follow the previous write within the same microtask queue: one write each).
      for (let i = 0; i < perRound; i += 16) {
        const pending = [];
        for (let j = 0; j < 16; j++) pending.push(mw.handle(makeExchange(), async () => answer()));
        for (const res of await Promise.all(pending))
          if (res.body.type !== 'json') throw new Error('unexpected body');
        await new Promise((r) => setImmediate(r));
      }
      await mw.flush();
      const d = process.cpuUsage(start);
      return (d.user + d.system) / perRound;
    },
  };
}

const subjects = [];
for (const [name, base] of builds) subjects.push(await load(name, base));
const samples = new Map(subjects.map((s) => [s.name, []]));
for (let r = 0; r < rounds + 1; r++) {
  for (const s of subjects) {
    const us = await s.round();
    if (r > 0) samples.get(s.name).push(us); // round 0 warms up
  }
}
console.log(
  `audit layer, in-process, ${perRound} events × ${rounds} rounds${payloads ? ', payloads on' : ''} (µs CPU per event, incl. exchange construction)`,
);
for (const s of subjects) {
  const xs = samples.get(s.name).sort((a, b) => a - b);
  console.log(`${s.name.padEnd(6)} median ${xs[xs.length >> 1].toFixed(2)}  min ${xs[0].toFixed(2)}`);
  await s.mw.close();
}
if (process.env.AUDIT_BENCH_KEEP) console.log(dir);
else rmSync(dir, { recursive: true, force: true });
