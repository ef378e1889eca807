import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeMcpHeaderValue,
  encodeMcpHeaderValue,
  mcpHeaderNeedsBase64,
} from '../../src/mcp-header-value.js';

describe('Mcp-Name / Mcp-Param-* header values', () => {
  it('sends printable ASCII as it is and non-ASCII through the base64 sentinel', () => {
    expect(encodeMcpHeaderValue('get_weather')).toBe('get_weather');
    expect(encodeMcpHeaderValue('us west 1')).toBe('us west 1');
    expect(encodeMcpHeaderValue('météo')).toBe('=?base64?bcOpdMOpbw==?=');
    expect(decodeMcpHeaderValue('=?base64?bcOpdMOpbw==?=')).toBe('météo');
    expect(decodeMcpHeaderValue('plain')).toBe('plain');
  });

  it('encodes what HTTP would alter or misread: edge whitespace, controls, a sentinel look-alike', () => {
    for (const v of [' padded', 'padded ', 'tab\there', 'line\nbreak', '=?base64?abc?=']) {
      expect(mcpHeaderNeedsBase64(v)).toBe(true);
      expect(encodeMcpHeaderValue(v)).toMatch(/^=\?base64\?[A-Za-z0-9+/=]*\?=$/);
      expect(decodeMcpHeaderValue(encodeMcpHeaderValue(v))).toBe(v);
    }
  });

  it('refuses a sentinel with malformed base64', () => {
    expect(decodeMcpHeaderValue('=?base64?not base64!?=')).toBeUndefined();
    expect(decodeMcpHeaderValue('=?base64?abc?=')).toBeUndefined(); // length not a multiple of 4
  });

  it('round-trips any string, and what it sends is always a valid plain header value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (v) => {
        const header = encodeMcpHeaderValue(v);
        expect(decodeMcpHeaderValue(header)).toBe(v);
        expect(header).toMatch(/^[\x20-\x7e]*$/);
        expect(header).toBe(header.trim());
      }),
    );
  });
});
