import fs from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { resolveAuditOptions } from '../src/options.js';
import { DEFAULT_REDACT_KEYS } from '../src/redact.js';
import { auditEventSchema } from '../src/schema.js';

describe('resolveAuditOptions', () => {
  it('applies the documented defaults', () => {
    const r = resolveAuditOptions({ sinks: [] });
    expect(r.enabled).toBe(true);
    expect(r.types.has('mcp_ping')).toBe(true);
    expect(r.payloads).toBeUndefined();
    expect(r.maxDelegationDepth).toBe(5);
    const p = resolveAuditOptions({ sinks: [], payloads: {} }).payloads;
    expect(p).toEqual({ request: true, response: true, maxBytes: 4096, redactKeys: DEFAULT_REDACT_KEYS });
    expect(resolveAuditOptions().sinks.map((s) => s.name)).toEqual(['stdout']);
  });

  it('lets excludeTypes win over includeTypes', () => {
    const r = resolveAuditOptions({
      sinks: [],
      includeTypes: ['mcp_ping', 'mcp_tool_call'],
      excludeTypes: ['mcp_ping'],
    });
    expect([...r.types]).toEqual(['mcp_tool_call']);
  });

  it('strips global/sticky flags so a RegExp pattern never skips keys', () => {
    const re = resolveAuditOptions({ sinks: [], payloads: { redactKeys: /pin/gi } }).payloads?.redactKeys;
    expect(re?.flags).toBe('i');
    expect([re?.test('pin'), re?.test('PIN')]).toEqual([true, true]);
  });

  it.each([
    [{ includeTypes: ['mcp_tools_list'] }, /"includeTypes" contains unknown event type "mcp_tools_list"/],
    [{ excludeTypes: 'mcp_ping' }, /"excludeTypes" must be an array/],
    [{ enabled: 'yes' }, /"enabled"/],
    [{ payloads: { maxBytes: 0 } }, /"payloads.maxBytes"/],
    [{ payloads: { redactKeys: [''] } }, /"payloads.redactKeys"/],
    [{ trustedProxies: ['300.0.0.1'] }, /"trustedProxies"/],
    [{ maxDelegationDepth: 0 }, /"maxDelegationDepth"/],
    [{ sinks: [{ type: 'syslog' }] }, /"sinks" entries/],
  ])('rejects %j with a TypeError naming the option', (options, message) => {
    expect(() => resolveAuditOptions({ sinks: [], ...(options as object) })).toThrow(message);
    expect(() => resolveAuditOptions({ sinks: [], ...(options as object) })).toThrow(TypeError);
  });

  it('opens no sink when disabled', () => {
    expect(
      resolveAuditOptions({ enabled: false, sinks: [{ type: 'file', path: '/nonexistent/dir/a.jsonl' }] })
        .sinks,
    ).toEqual([]);
  });
});

describe('published JSON Schema', () => {
  it('schema/audit-event.schema.json is the schema the package exports', () => {
    const file = JSON.parse(
      fs.readFileSync(new URL('../schema/audit-event.schema.json', import.meta.url), 'utf8'),
    );
    expect(file).toEqual(JSON.parse(JSON.stringify(auditEventSchema)));
  });

  it('package.json exports it as "./schema"', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.exports['./schema']).toBe('./schema/audit-event.schema.json');
    expect(pkg.files).toContain('schema');
  });
});

describe('schema strictness', () => {
  it('rejects events with unknown fields, bad types or a non-uuid id', async () => {
    const { assertValidEvent } = await import('./helpers.js');
    const good = {
      auditId: '3b241101-e2bb-4255-8caf-4136c566a962',
      time: '2026-01-01T00:00:00.000Z',
      type: 'mcp_ping',
      outcome: 'success',
      subject: {},
      source: { ip: '127.0.0.1', requestId: 'r' },
      target: { server: 'demo', endpoint: '/mcp', httpMethod: 'POST' },
      durationMs: 0,
      status: 200,
    };
    expect(() => assertValidEvent(good)).not.toThrow();
    expect(() => assertValidEvent({ ...good, token: 'x' })).toThrow(/schema/);
    expect(() => assertValidEvent({ ...good, type: 'mcp_tools_list' })).toThrow(/schema/);
    expect(() => assertValidEvent({ ...good, auditId: 'abc' })).toThrow(/schema/);
    expect(() => assertValidEvent({ ...good, outcome: undefined })).toThrow(/schema/);
  });
});
