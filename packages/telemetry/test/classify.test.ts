import { describe, expect, it } from '@jest/globals';
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import {
  classify,
  protocolVersionLabel,
  requestFacts,
  rpcCodeOfError,
  spanNameOf,
  statusOfError,
} from '../src/classify.js';

describe('requestFacts and spanNameOf', () => {
  it('names a tools/call span "<method> <tool>" and extracts the semconv facts', () => {
    const facts = requestFacts({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' }, _meta: { traceparent: 'x' } },
    });
    expect(facts).toMatchObject({
      method: 'tools/call',
      requestId: '7',
      tool: 'echo',
      arguments: { text: 'hi' },
    });
    expect(facts.meta).toEqual({ traceparent: 'x' });
    expect(spanNameOf(facts, 'POST', '/mcp')).toBe('tools/call echo');
  });

  it('uses the method alone when there is no tool or prompt, and the prompt name for prompts/get', () => {
    expect(spanNameOf(requestFacts({ jsonrpc: '2.0', id: 'a', method: 'tools/list' }), 'POST', '/mcp')).toBe(
      'tools/list',
    );
    const prompt = requestFacts({
      jsonrpc: '2.0',
      id: 1,
      method: 'prompts/get',
      params: { name: 'greeting' },
    });
    expect(spanNameOf(prompt, 'POST', '/mcp')).toBe('prompts/get greeting');
    const read = requestFacts({
      jsonrpc: '2.0',
      id: 1,
      method: 'resources/read',
      params: { uri: 'demo://readme' },
    });
    expect(read.resourceUri).toBe('demo://readme');
  });

  it('falls back to "<HTTP method> <path>" for requests without JSON-RPC and never records a notification id', () => {
    expect(spanNameOf(requestFacts(undefined), 'GET', '/mcp')).toBe('GET /mcp');
    expect(requestFacts({ jsonrpc: '2.0', method: 'notifications/initialized' }).requestId).toBeUndefined();
  });
});

describe('classify', () => {
  it('is success for a 2xx without errors', () => {
    expect(classify({ status: 200 })).toEqual({ outcome: 'success', errorType: undefined });
  });

  it('reports a JSON-RPC error inside a 200 as rpc_error with the code as error.type', () => {
    expect(classify({ status: 200, rpcErrorCode: -32602 })).toEqual({
      outcome: 'rpc_error',
      errorType: '-32602',
    });
  });

  it('reports an isError tool result as tool_error', () => {
    expect(classify({ status: 200, toolError: true })).toEqual({
      outcome: 'tool_error',
      errorType: 'tool_error',
    });
  });

  it('uses the JSON-RPC code for a 4xx JSON-RPC answer and the status for OAuth answers and 5xx', () => {
    expect(classify({ status: 403, rpcErrorCode: -32003 })).toEqual({
      outcome: 'error',
      errorType: '-32003',
    });
    expect(classify({ status: 401 })).toEqual({ outcome: 'error', errorType: '401' });
    expect(classify({ status: 502, rpcErrorCode: -32603 })).toEqual({ outcome: 'error', errorType: '502' });
  });
});

describe('statusOfError / rpcCodeOfError', () => {
  const http = (status: number, oauth = false) =>
    new ProxyHttpError({
      status,
      rpcCode: -32001,
      publicMessage: 'no',
      code: 'ERR_BASTION_TEST',
      ...(oauth ? { oauthError: { error: 'invalid_token' } } : {}),
    });

  it('maps a ProxyHttpError to its status and anything else to 500', () => {
    expect(statusOfError(http(403))).toBe(403);
    expect(statusOfError(new Error('boom'))).toBe(500);
    expect(statusOfError(undefined)).toBe(500);
  });

  it('gives the JSON-RPC code only when the answer is a JSON-RPC error (not an OAuth body)', () => {
    expect(rpcCodeOfError(http(403))).toBe(-32001);
    expect(rpcCodeOfError(http(401, true))).toBeUndefined();
    expect(rpcCodeOfError(new Error('x'))).toBeUndefined();
  });
});

describe('protocolVersionLabel', () => {
  it('keeps only date-shaped versions so a client cannot explode the label set', () => {
    expect(protocolVersionLabel('2025-06-18')).toBe('2025-06-18');
    expect(protocolVersionLabel('random-junk')).toBeUndefined();
  });
});
