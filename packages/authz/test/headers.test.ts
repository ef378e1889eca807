import { describe, expect, it } from '@jest/globals';
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import { AuthzErrorCode } from '../src/errors.js';
import { checkMirroredHeaders, isModernRevision } from '../src/headers.js';
import { call, makeExchange } from './helpers.js';

function mismatch(fn: () => void): ProxyHttpError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyHttpError);
    return err as ProxyHttpError;
  }
  throw new Error('expected a rejection');
}

const modern = { 'mcp-protocol-version': '2026-07-28' };

describe('checkMirroredHeaders', () => {
  it('accepts matching Mcp-Method / Mcp-Name', () => {
    const rpc = call('echo');
    const ex = makeExchange(rpc, { headers: { ...modern, 'mcp-method': 'tools/call', 'mcp-name': 'echo' } });
    expect(() => checkMirroredHeaders(ex, rpc)).not.toThrow();
  });

  it('rejects an Mcp-Name that names another tool with 400 / -32020', () => {
    const rpc = call('delete_repo');
    const ex = makeExchange(rpc, { headers: { ...modern, 'mcp-method': 'tools/call', 'mcp-name': 'echo' } });
    const err = mismatch(() => checkMirroredHeaders(ex, rpc));
    expect(err).toMatchObject({ status: 400, rpcCode: -32020, code: AuthzErrorCode.HeaderMismatch });
    expect(err.publicMessage).toBe('Mcp-Name header does not match the request body');
  });

  it('rejects an Mcp-Method that differs, even only by case', () => {
    const rpc = call('echo');
    const ex = makeExchange(rpc, { headers: { ...modern, 'mcp-method': 'Tools/call', 'mcp-name': 'echo' } });
    expect(mismatch(() => checkMirroredHeaders(ex, rpc)).publicMessage).toContain('Mcp-Method');
  });

  it('rejects a modern request without Mcp-Name on tools/call, or without Mcp-Method', () => {
    const rpc = call('echo');
    const noName = makeExchange(rpc, { headers: { ...modern, 'mcp-method': 'tools/call' } });
    expect(mismatch(() => checkMirroredHeaders(noName, rpc)).publicMessage).toBe(
      'Missing required Mcp-Name header',
    );
    const noMethod = makeExchange(rpc, { headers: { ...modern, 'mcp-name': 'echo' } });
    expect(mismatch(() => checkMirroredHeaders(noMethod, rpc)).publicMessage).toBe(
      'Missing required Mcp-Method header',
    );
  });

  it('ignores absent headers on legacy revisions', () => {
    const rpc = call('echo');
    const ex = makeExchange(rpc, { headers: { 'mcp-protocol-version': '2025-06-18' } });
    expect(() => checkMirroredHeaders(ex, rpc)).not.toThrow();
  });

  it('compares resources/read against params.uri and decodes base64 names', () => {
    const read = {
      jsonrpc: '2.0' as const,
      id: 2,
      method: 'resources/read',
      params: { uri: 'demo://secret' },
    };
    const ex = makeExchange(read, {
      headers: { ...modern, 'mcp-method': 'resources/read', 'mcp-name': 'demo://readme' },
    });
    expect(() => checkMirroredHeaders(ex, read)).toThrow(ProxyHttpError);
    const meteo = call('météo');
    const b64 = `=?base64?${Buffer.from('météo').toString('base64')}?=`;
    const ok = makeExchange(meteo, { headers: { ...modern, 'mcp-method': 'tools/call', 'mcp-name': b64 } });
    expect(() => checkMirroredHeaders(ok, meteo)).not.toThrow();
  });

  it('uses the upstream headers (after renaming) over the inbound ones', () => {
    const rpc = call('real_name');
    const ex = makeExchange(rpc, {
      headers: { ...modern, 'mcp-method': 'tools/call', 'mcp-name': 'svc__alias' },
    });
    ex.upstreamHeaders['mcp-name'] = 'real_name';
    expect(() => checkMirroredHeaders(ex, rpc)).not.toThrow();
  });
});

describe('isModernRevision', () => {
  it('treats 2026-07-28 and later dated revisions as modern', () => {
    expect(isModernRevision('2026-07-28')).toBe(true);
    expect(isModernRevision('2027-01-01')).toBe(true);
    expect(isModernRevision('2025-11-25')).toBe(false);
    expect(isModernRevision(undefined)).toBe(false);
    expect(isModernRevision('draft')).toBe(false);
  });
});
