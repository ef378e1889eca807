import { describe, expect, it } from '@jest/globals';
import { KnownTools, OTHER_TOOL } from '../src/known-tools.js';

describe('KnownTools', () => {
  it('collapses every name to "other" until the upstream listed it', () => {
    const known = new KnownTools();
    expect(known.label('echo')).toBe(OTHER_TOOL);
    known.observeList({ tools: [{ name: 'echo' }, { name: 'add' }] });
    expect(known.label('echo')).toBe('echo');
    expect(known.label('add')).toBe('add');
    expect(known.label('rm -rf')).toBe(OTHER_TOOL);
  });

  it('keeps the union of list pages and ignores malformed entries', () => {
    const known = new KnownTools();
    known.observeList({ tools: [{ name: 'a' }], nextCursor: 'x' });
    known.observeList({
      tools: [{ name: 'b' }, { name: 42 }, null, { name: '' }, { name: 'x'.repeat(200) }],
    });
    known.observeList({ notTools: true });
    known.observeList(null);
    expect(known.size).toBe(2);
    expect(known.label('a')).toBe('a');
    expect(known.label('b')).toBe('b');
  });

  it('is bounded: names beyond maxToolNames collapse to "other"', () => {
    const known = new KnownTools(3);
    known.observeList({ tools: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name })) });
    expect(known.size).toBe(3);
    expect(known.label('d')).toBe(OTHER_TOOL);
  });

  it('rejects a bad bound', () => {
    expect(() => new KnownTools(-1)).toThrow('"maxToolNames" must be a non-negative integer');
  });
});
