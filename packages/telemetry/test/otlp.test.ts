/** OTLP/HTTP export to a real local HTTP receiver (stands in for an OpenTelemetry Collector). */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { composeChain, Exchange, jsonResponse } from '@bastion-mcp/proxy-core';
import { createTelemetry, type Telemetry } from '../src/index.js';
import { eventually } from './helpers.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('OTLP/HTTP export', () => {
  let server: Server;
  let endpoint: string;
  let telemetry: Telemetry;
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    telemetry = await createTelemetry({
      serviceName: 'otlp-test',
      prometheus: false,
      processMetrics: false,
      otlp: { endpoint, headers: { 'x-api-key': 'collector-key' }, metricsIntervalMs: 60_000 },
    });
  });

  afterAll(async () => {
    await telemetry.shutdown();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends traces to <endpoint>/v1/traces and metrics to <endpoint>/v1/metrics with the configured headers', async () => {
    const exchange = new Exchange({
      request: {
        method: 'POST',
        path: '/mcp',
        query: '',
        headers: {},
        body: Buffer.alloc(0),
        remoteAddress: '127.0.0.1',
        protocol: 'http',
      },
      requestId: 'otlp-1',
      serverName: 'otlp',
      route: 'streamable',
      rpc: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      upstreamHeaders: {},
      signal: new AbortController().signal,
    });
    await composeChain([telemetry.middleware], async () =>
      jsonResponse(200, { jsonrpc: '2.0', id: 1, result: { tools: [] } }),
    )(exchange);
    await telemetry.forceFlush();
    const traces = await eventually(() => received.find((r) => r.path === '/v1/traces'));
    const metrics = await eventually(() => received.find((r) => r.path === '/v1/metrics'));
    expect(traces.headers['x-api-key']).toBe('collector-key');
    expect(metrics.headers['x-api-key']).toBe('collector-key');
    // protobuf or JSON, the span name, service name and metric name travel as plain strings
    expect(traces.body.toString('latin1')).toContain('tools/list');
    expect(traces.body.toString('latin1')).toContain('otlp-test');
    expect(metrics.body.toString('latin1')).toContain('bastion_mcp_requests');
  });
});
