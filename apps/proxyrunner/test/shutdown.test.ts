/**
 * SIGTERM during an SSE stream: the real binary stops taking new requests, lets the in-flight stream
 * finish (within limits.shutdownGraceMs), ends what is left cleanly at the deadline, and exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { localise, readExample } from './helpers/examples.js';
import { ensureBuilt, startRunner, writeConfig } from './helpers/runner-process.js';

let upstream: McpUpstream;

beforeAll(async () => {
  ensureBuilt();
  // Stateless streamable HTTP answering POSTs with SSE streams.
  upstream = await startMcpUpstream({ stateless: true });
}, 300_000);

afterAll(async () => {
  await upstream?.close();
});

function config(shutdownGraceMs: number) {
  const cfg = localise(readExample('anonymous.yaml'), upstream.url);
  return writeConfig({ ...cfg, tools: undefined, limits: { shutdownGraceMs } }, 'runconfig.json');
}

/** Starts a `progress` tool call that waits on `latch` after its first step; returns the stream reader. */
async function openProgressStream(url: string, latch: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 11,
      method: 'tools/call',
      params: { name: 'progress', arguments: { steps: 2, latch }, _meta: { progressToken: 'p1' } },
    }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) return { text, done: true };
      text += decoder.decode(value, { stream: true });
    }
    return { text, done: false };
  };
  const readToEnd = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  };
  return { readUntil, readToEnd };
}

describe('graceful shutdown', () => {
  it('finishes an in-flight SSE stream after SIGTERM, refuses new requests, then exits 0', async () => {
    const runner = startRunner(['--config', config(20_000)]);
    const url = String((await runner.listening()).url);
    const latch = upstream.latch('drain-finish');
    const stream = await openProgressStream(url, 'drain-finish');
    await stream.readUntil(/notifications\/progress/);
    await latch.reached;

    runner.child.kill('SIGTERM');
    await runner.waitFor((l) => l.msg === 'Shutting down');
    // New work is refused while draining (503, or the listener is already closed).
    const late = await fetch(`${new URL(url).origin}/health`).then(
      (r) => r.status,
      () => 'closed',
    );
    expect([503, 'closed']).toContain(late);
    expect(runner.child.exitCode).toBeNull();

    latch.release();
    const text = await stream.readToEnd();
    expect(text).toContain('completed 2 steps');
    expect(await runner.exited).toBe(0);
    expect(runner.lines.some((l) => l.msg === 'Stopped')).toBe(true);
  });

  it('ends a stream that outlives shutdownGraceMs cleanly and still exits 0', async () => {
    const runner = startRunner(['--config', config(300)]);
    const url = String((await runner.listening()).url);
    const latch = upstream.latch('drain-never');
    const stream = await openProgressStream(url, 'drain-never');
    await stream.readUntil(/notifications\/progress/);
    await latch.reached;

    runner.child.kill('SIGTERM');
    const text = await stream.readToEnd(); // ends (no reset) when the deadline passes
    expect(text).toContain('notifications/progress');
    expect(text).not.toContain('completed 2 steps');
    expect(await runner.exited).toBe(0);
    latch.release();
  });
});
