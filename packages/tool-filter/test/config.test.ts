import { describe, expect, it } from '@jest/globals';
import { compileToolRules, resolveCall } from '../src/config.js';
import { rewriteToolsList } from '../src/list.js';

describe('compileToolRules', () => {
  it('rejects two tools that would end up with one name, naming both', () => {
    expect(() => compileToolRules({ overrides: { add: { name: 'sum' }, plus: { name: 'sum' } } })).toThrow(
      /tools "add" and "plus" would both be named "sum"/,
    );
    // a rename onto the name of another overridden tool that keeps its name
    expect(() =>
      compileToolRules({ overrides: { add: { name: 'echo' }, echo: { description: 'x' } } }),
    ).toThrow(/tools "add" and "echo" would both be named "echo"/);
    // swapping names is fine
    expect(() => compileToolRules({ overrides: { a: { name: 'b' }, b: { name: 'a' } } })).not.toThrow();
  });

  it.each([
    [{}, /needs "filter" and\/or "overrides"/],
    [{ filter: [] }, /"filter" must not be empty/],
    [{ filter: ['ok', ''] }, /"filter\[1\]" must be a non-empty string/],
    [{ filter: 'echo' }, /"filter" must be an array/],
    [{ overrides: { add: {} } }, /"overrides.add" must set at least one/],
    [{ overrides: { add: { nmae: 'x' } } }, /"overrides.add" has unknown keys: nmae/],
    [{ overrides: { add: { name: ' sum' } } }, /"overrides.add.name"/],
    [{ overrides: { add: { annotations: [] } } }, /"overrides.add.annotations" must be an object/],
    [
      { overrides: { add: { name: 'sum' } }, filter: ['add'] },
      /"filter" lists "add", the real name of a tool renamed to "sum"/,
    ],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => compileToolRules(options as never)).toThrow(TypeError);
    expect(() => compileToolRules(options as never)).toThrow(message);
  });
});

describe('resolveCall', () => {
  const rules = compileToolRules({
    filter: ['echo', 'sum'],
    overrides: { add: { name: 'sum', description: 'Adds' } },
  });
  it('maps user-facing names to real names and refuses everything else', () => {
    expect(resolveCall(rules, 'echo')).toBe('echo');
    expect(resolveCall(rules, 'sum')).toBe('add');
    expect(resolveCall(rules, 'add')).toBeUndefined(); // the real name of a renamed tool is not callable
    expect(resolveCall(rules, 'secret')).toBeUndefined();
  });

  it('hides the real name of a renamed tool even without a filter', () => {
    const r = compileToolRules({ overrides: { add: { name: 'sum' } } });
    expect(resolveCall(r, 'add')).toBeUndefined();
    expect(resolveCall(r, 'sum')).toBe('add');
    expect(resolveCall(r, 'anything')).toBe('anything');
  });

  it('keeps both names meaningful when two tools swap names', () => {
    const r = compileToolRules({ overrides: { a: { name: 'b' }, b: { name: 'a' } } });
    expect([resolveCall(r, 'a'), resolveCall(r, 'b')]).toEqual(['b', 'a']);
  });
});

describe('rewriteToolsList', () => {
  const upstream = {
    tools: [
      { name: 'echo', description: 'Echo', inputSchema: { type: 'object' } },
      {
        name: 'add',
        description: 'Add',
        inputSchema: { type: 'object', properties: { a: {} } },
        annotations: { title: 'Add', readOnlyHint: false },
      },
      { name: 'secret', inputSchema: { type: 'object' } },
    ],
    nextCursor: 'c2',
    _meta: { x: 1 },
  };

  it('filters, renames and re-describes, keeping every other field and the order', () => {
    const rules = compileToolRules({
      filter: ['echo', 'sum'],
      overrides: { add: { name: 'sum', description: 'Adds', annotations: { readOnlyHint: true } } },
    });
    const { result, malformed } = rewriteToolsList(rules, upstream);
    expect(malformed).toBe(0);
    expect(result).toEqual({
      tools: [
        { name: 'echo', description: 'Echo', inputSchema: { type: 'object' } },
        {
          name: 'sum',
          description: 'Adds',
          inputSchema: { type: 'object', properties: { a: {} } },
          annotations: { title: 'Add', readOnlyHint: true },
        },
      ],
      nextCursor: 'c2',
      _meta: { x: 1 },
    });
    expect(upstream.tools[1]?.name).toBe('add'); // input untouched
  });

  it('drops entries without a usable name (fail closed) and real tools shadowed by a rename', () => {
    const rules = compileToolRules({ overrides: { add: { name: 'echo' } } });
    const { result, malformed, shadowed } = rewriteToolsList(rules, {
      tools: [{ name: 'echo' }, { name: 'add' }, { nome: 'x' }, 'junk'],
    });
    expect(result.tools).toEqual([{ name: 'echo' }]);
    expect(malformed).toBe(2);
    expect(shadowed).toEqual(['echo']);
  });
});
