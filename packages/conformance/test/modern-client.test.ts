/**
 * The client wrapper's 2026-07-28 stdio client (modern-client.ts) on the BUILT `bastion run --stdio`
 * (apps/cli/dist) against the stateless reference upstream: the path the suite's 2026-07-28 client
 * `auth` scenarios take once bastion has logged in.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  LEGACY_PROTOCOL_VERSIONS,
  listAndCallFirstTool,
  ModernStdioClient,
} from '../src/client-auth/modern-client.js';
import { type ModernReferenceUpstream, startModernReferenceUpstream } from '../src/index.js';

const BASTION = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'apps',
  'cli',
  'dist',
  'main.js',
);

let up: ModernReferenceUpstream;
let home: string;

beforeAll(async () => {
  up = await startModernReferenceUpstream();
  home = mkdtempSync(join(tmpdir(), 'bastion-modern-client-'));
});

afterAll(async () => {
  await up?.close();
  rmSync(home, { recursive: true, force: true });
});

function client(
  name: string,
  protocolVersion = '2026-07-28',
  args?: string[],
  capabilities?: Record<string, unknown>,
): ModernStdioClient {
  return new ModernStdioClient({
    command: process.execPath,
    args: args ?? [BASTION, 'run', up.url, '--stdio', '--name', name],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      BASTION_HOME: join(home, 'state'),
      BASTION_TOKEN_STORE: 'file',
      NODE_OPTIONS: '',
    },
    protocolVersion,
    clientInfo: { name: 'modern-client-test', version: '1.0.0' },
    capabilities,
  });
}

describe('ModernStdioClient through bastion run --stdio', () => {
  it('needs the built CLI', () => {
    expect(existsSync(BASTION)).toBe(true);
  });

  it('lists the tools and calls the first one without a handshake', async () => {
    const c = client('listing');
    try {
      await listAndCallFirstTool(c);
      const result = await c.request('tools/call', { name: 'test_simple_text', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    } finally {
      await c.close();
    }
  });

  it('throws the JSON-RPC error of a version the server does not support', async () => {
    const c = client('future', '2099-01-01');
    try {
      await expect(c.request('tools/list')).rejects.toThrow(
        'tools/list failed: Unsupported protocol version (-32022)',
      );
    } finally {
      await c.close();
    }
  });

  it('throws on an input_required result it cannot answer', async () => {
    const c = client('mrtr', '2026-07-28', undefined, { elicitation: {} });
    try {
      await expect(
        c.request('tools/call', { name: 'test_input_required_result_elicitation', arguments: {} }),
      ).rejects.toThrow('asked for client input');
    } finally {
      await c.close();
    }
  });

  it('rejects pending requests when bastion exits', async () => {
    const c = client('gone', '2026-07-28', [BASTION, 'run', 'not-a-url', '--stdio']);
    await expect(c.request('tools/list')).rejects.toThrow(/bastion exited \(code [1-9]\d*\)/);
    await c.close();
  });

  it('keeps the SDK client for the session-era revisions only', () => {
    expect([...LEGACY_PROTOCOL_VERSIONS]).toEqual(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']);
    expect(LEGACY_PROTOCOL_VERSIONS.has('2026-07-28')).toBe(false);
  });
});
