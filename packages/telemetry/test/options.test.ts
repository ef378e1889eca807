import { describe, expect, it } from '@jest/globals';
import { resolveOptions } from '../src/options.js';

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      enabled: true,
      serviceName: 'bastion',
      traces: true,
      metrics: true,
      sampleRatio: 1,
      prometheus: true,
      metricsOnMainPort: false,
      metricsPath: '/metrics',
      otlp: undefined,
      recordArguments: false,
      recordUserId: false,
      inspectResponses: true,
      maxToolNames: 1000,
      processMetrics: true,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('derives the OTLP signal URLs from the endpoint', () => {
    const o = resolveOptions({ otlp: { endpoint: 'http://collector:4318/', headers: { 'x-key': 'k' } } });
    expect(o.otlp).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      metricsUrl: 'http://collector:4318/v1/metrics',
      headers: { 'x-key': 'k' },
      metricsIntervalMs: 60000,
      timeoutMs: 10000,
    });
    expect(
      resolveOptions({ otlp: { endpoint: 'http://c:4318', metrics: false } }).otlp?.metricsUrl,
    ).toBeUndefined();
  });

  it('turns Prometheus off with metrics', () => {
    expect(resolveOptions({ metrics: false }).prometheus).toBe(false);
  });

  it.each([
    [{ sampleRatio: 2 }, '"sampleRatio" must be a number between 0 and 1'],
    [{ sampleRatio: Number.NaN }, '"sampleRatio" must be a number between 0 and 1'],
    [{ enabled: 'yes' }, '"enabled" must be a boolean'],
    [{ metricsPath: 'metrics' }, '"metricsPath" must be an absolute path starting with "/"'],
    [{ otlp: { endpoint: 'ftp://x' } }, '"otlp.endpoint" must be an absolute http(s) URL'],
    [
      { otlp: { endpoint: 'http://x', metricsIntervalMs: 0 } },
      '"otlp.metricsIntervalMs" must be a positive integer',
    ],
    [{ otlp: { endpoint: 'http://x', headers: { a: 1 } } }, '"otlp.headers.a" must be a string'],
    [{ serviceName: '' }, '"serviceName" must be a non-empty string'],
    [{ redactKeys: 'password' }, '"redactKeys" must be a RegExp'],
    [{ spanExporters: [{}] }, '"spanExporters" must be an array of SpanExporter objects'],
    [{ maxToolNames: 1.5 }, '"maxToolNames" must be a non-negative integer'],
  ])('rejects %j with a TypeError naming the option', (bad, message) => {
    expect(() => resolveOptions(bad as never)).toThrow(new TypeError(message));
  });
});
