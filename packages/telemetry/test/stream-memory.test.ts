/**
 * A long-lived SSE answer inspected by telemetry (`inspectResponses`, span open for the whole stream)
 * must not retain memory per relayed event: heap after a forced GC is compared before and after many
 * events through ONE stream (a memory bound, never a time bound). `gc` is exposed at run time
 * (`--expose-gc` cannot be passed to jest workers).
 */
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from '@jest/globals';
import { composeChain, Exchange, type JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTelemetry, type Telemetry } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as () => void;

/**
 * Heap after a full GC, measured from a fresh macrotask: the test drives the stream through microtasks
 * only, which defers the Readable's `process.nextTick` work until the loop yields (it would be counted).
 */
async function heapUsed(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gcFn();
  gcFn();
  return process.memoryUsage().heapUsed;
}

const instances: Telemetry[] = [];
afterAll(async () => {
  await Promise.all(instances.map((t) => t.shutdown()));
});

const rpc: JsonRpcMessage = {
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'long', arguments: {} },
};

function exchange(): Exchange {
  return new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: { host: '127.0.0.1:8080' },
      body: Buffer.from(JSON.stringify(rpc)),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'mem-1',
    serverName: 'unit',
    route: 'streamable',
    rpc,
    upstreamHeaders: {},
    signal: new AbortController().signal,
  });
}

/** An upstream SSE byte stream: a progress notification per event, then the tool result. */
function upstreamBytes(total: number): Readable {
  let n = 0;
  return new Readable({
    read() {
      if (n === total) {
        this.push(
          `data: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [], isError: true } })}\n\n`,
        );
        this.push(null);
        return;
      }
      n++;
      const note = {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 't', progress: n },
      };
      this.push(`id: ${n}\ndata: ${JSON.stringify(note)}\n\n`);
    },
  });
}

describe('memory of an inspected long-lived SSE answer', () => {
  it('does not grow with the number of events while the span stays open', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await createTelemetry({ processMetrics: false, spanExporters: [exporter] });
    instances.push(t);
    const warmup = 2_000;
    const events = 20_000;
    const res = await composeChain([t.edge, t.middleware], async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: upstreamBytes(warmup + events) },
    }))(exchange());
    const body = res.body;
    // Observed in place: the upstream's bytes go to the client as they are (no parse + re-serialise).
    if (body.type !== 'stream') throw new Error('expected the raw upstream stream, observed in place');
    const iterator = body.stream[Symbol.asyncIterator]();
    // A read hands out whatever is buffered (several events at once): count events, not chunks.
    let pending = 0;
    const readEvents = async (n: number): Promise<void> => {
      while (pending < n) {
        const step = await iterator.next();
        if (step.done) throw new Error('the stream ended early');
        pending += String(step.value).split('\n\n').length - 1;
      }
      pending -= n;
    };
    await readEvents(warmup);
    const before = await heapUsed();
    await readEvents(events - 100);
    const after = await heapUsed();
    expect(exporter.getFinishedSpans()).toHaveLength(0); // the span was open the whole time
    // A retained event is several hundred bytes; 2 MiB over 20k events (~100 bytes/event) is noise room.
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    let step = await iterator.next();
    while (!step.done) step = await iterator.next();
    await new Promise((resolve) => setImmediate(resolve)); // the stream's close
    const span = exporter.getFinishedSpans()[0];
    expect(span?.events).toHaveLength(0);
    expect(span?.attributes['http.response.status_code']).toBe(200);
    // The answer at the very end was read: the tool error is on the span.
    expect(span?.attributes['error.type']).toBe('tool_error');
  });
});
