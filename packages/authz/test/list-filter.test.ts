import { describe, expect, it } from '@jest/globals';
import type { JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { PolicyEngine } from '../src/engine.js';
import { buildPrincipal } from '../src/entity-model.js';
import { filterListMessage, listKindOfResult } from '../src/list-filter.js';
import { identity } from './helpers.js';

const engine = await PolicyEngine.create({
  policies: [
    'permit(principal, action == Action::"call_tool", resource) when { resource has readOnlyHint && resource.readOnlyHint };',
    'permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting");',
    'permit(principal, action == Action::"read_resource", resource == Resource::"demo://readme");',
  ],
});
const principal = buildPrincipal(identity({ subject: 'alice' }), {
  groupEntityType: 'Group',
  roleEntityType: 'Role',
});
const ctx = { engine, principal, serverName: 'demo', markPrivate: false };

function result(m: JsonRpcMessage): Record<string, unknown> {
  return (m as { result: Record<string, unknown> }).result;
}

describe('filterListMessage', () => {
  it('filters tools by call_tool using each item’s own annotations and keeps the other fields', () => {
    const msg: JsonRpcMessage = {
      jsonrpc: '2.0',
      id: 1,
      result: {
        tools: [
          { name: 'echo', annotations: { readOnlyHint: true } },
          { name: 'delete_repo', annotations: { destructiveHint: true } },
          { name: 'bare' },
          { noName: true },
        ],
        nextCursor: 'abc',
        _meta: { k: 1 },
      },
    };
    const out = filterListMessage(msg, 'tools', ctx);
    expect(result(out.message)).toEqual({
      tools: [{ name: 'echo', annotations: { readOnlyHint: true } }],
      nextCursor: 'abc',
      _meta: { k: 1 },
    });
    expect(out).toMatchObject({ kept: 1, removed: 3 });
  });

  it('filters prompts by get_prompt and resources by read_resource on the URI', () => {
    const prompts = filterListMessage(
      { jsonrpc: '2.0', id: 1, result: { prompts: [{ name: 'greeting' }, { name: 'other' }] } },
      'prompts',
      ctx,
    );
    expect(result(prompts.message).prompts).toEqual([{ name: 'greeting' }]);
    const resources = filterListMessage(
      {
        jsonrpc: '2.0',
        id: 1,
        result: {
          resources: [
            { uri: 'demo://readme', name: 'readme' },
            { uri: 'demo://secret', name: 'secret' },
          ],
        },
      },
      'resources',
      ctx,
    );
    expect(result(resources.message).resources).toEqual([{ uri: 'demo://readme', name: 'readme' }]);
  });

  it('marks the result cacheScope "private" when asked or when the upstream sent a cacheScope', () => {
    const base = { jsonrpc: '2.0' as const, id: 1, result: { tools: [], ttlMs: 1000 } };
    expect(result(filterListMessage(base, 'tools', { ...ctx, markPrivate: true }).message)).toEqual({
      tools: [],
      ttlMs: 1000,
      cacheScope: 'private',
    });
    const pub = { jsonrpc: '2.0' as const, id: 1, result: { tools: [], cacheScope: 'public' } };
    expect(result(filterListMessage(pub, 'tools', ctx).message).cacheScope).toBe('private');
    expect(result(filterListMessage({ ...base }, 'tools', ctx).message)).not.toHaveProperty('cacheScope');
  });

  it('removes every item when there is no principal, and leaves errors untouched', () => {
    const msg: JsonRpcMessage = {
      jsonrpc: '2.0',
      id: 1,
      result: { tools: [{ name: 'echo', annotations: { readOnlyHint: true } }] },
    };
    expect(result(filterListMessage(msg, 'tools', { ...ctx, principal: undefined }).message).tools).toEqual(
      [],
    );
    const err: JsonRpcMessage = { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'x' } };
    expect(filterListMessage(err, 'tools', ctx).message).toBe(err);
  });
});

describe('listKindOfResult', () => {
  it('recognises list results by shape', () => {
    expect(listKindOfResult({ tools: [] })).toBe('tools');
    expect(listKindOfResult({ prompts: [] })).toBe('prompts');
    expect(listKindOfResult({ resources: [] })).toBe('resources');
    expect(listKindOfResult({ content: [] })).toBeUndefined();
  });
});
