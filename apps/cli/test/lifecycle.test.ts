/**
 * Workload lifecycle through the built binary: run → list → requests through the local URL → stop →
 * restart → killed process detected and repaired → rm. The remote is the testkit MCP upstream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';

let up: McpUpstream;
let sb: Sandbox;

beforeAll(async () => {
  ensureBuilt();
  up = await startMcpUpstream();
  sb = createSandbox();
});

afterAll(async () => {
  sb?.cleanup();
  await up?.close();
});

interface ListedWorkload {
  name: string;
  status: string;
  reason: string | null;
  url: string;
  pid: number | null;
  remoteUrl: string;
}

async function listAll(): Promise<ListedWorkload[]> {
  const r = await sb.run(['list', '--all', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ListedWorkload[];
}

describe('bastion run / list / stop / restart / rm', () => {
  let url: string;

  it('runs a detached proxy and prints its local URL and how to add it to a client', async () => {
    const r = await sb.run(['run', up.url, '--name', 'demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    url = printedUrl(r.stdout);
    expect(r.stdout).toContain('bastion client setup');
    expect(r.stdout).toContain('bastion logs demo');
  });

  it('lists the running workload', async () => {
    const r = await sb.run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+URL/);
    expect(r.stdout).toMatch(/demo\s+running\s+http:\/\/127\.0\.0\.1/);
    const [w] = await listAll();
    expect(w).toMatchObject({ name: 'demo', status: 'running', url, remoteUrl: up.url });
    expect(typeof w?.pid).toBe('number');
  });

  it('forwards MCP requests from a real SDK client to the remote', async () => {
    const text = await withClient(url, async (client) => {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      return textOf(await client.callTool({ name: 'echo', arguments: { text: 'through bastion' } }));
    });
    expect(text).toBe('through bastion');
    expect(up.rpcRequests('tools/call').length).toBeGreaterThan(0);
  });

  it('refuses a second workload with the same name, with the fix', async () => {
    const r = await sb.run(['run', up.url, '--name', 'demo']);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('already exists');
    expect(r.stderr).toContain('bastion restart demo');
  });

  it('rejects requests with a foreign Origin (DNS-rebinding defence)', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(403);
    await res.body?.cancel();
  });

  it('shows the status of one workload', async () => {
    const r = await sb.run(['status', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Status:\s+running/);
    expect(r.stdout).toContain(url);
    const j = await sb.run(['status', 'demo', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ name: 'demo', status: 'running' });
  });

  it('stops the workload; list hides it unless --all', async () => {
    const [before] = await listAll();
    const r = await sb.run(['stop', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Stopped demo');
    expect(() => process.kill(before?.pid as number, 0)).toThrow();
    const l = await sb.run(['list']);
    expect(l.stdout).toContain('No running workloads');
    expect(l.stdout).toContain('bastion list --all');
    const [w] = await listAll();
    expect(w).toMatchObject({ name: 'demo', status: 'stopped', pid: null });
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  });

  it('restarts on the same local URL', async () => {
    const r = await sb.run(['restart', 'demo']);
    expect(r.code).toBe(0);
    expect(printedUrl(r.stdout)).toBe(url);
    const text = await withClient(url, async (c) =>
      textOf(await c.callTool({ name: 'echo', arguments: { text: 'again' } })),
    );
    expect(text).toBe('again');
  });

  it('detects a killed proxy process, reports it with the fix, and repairs the state', async () => {
    const [w] = await listAll();
    process.kill(w?.pid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const s = await sb.run(['status', 'demo']);
    expect(s.stdout).toMatch(/Status:\s+error/);
    expect(s.stdout).toContain('exited unexpectedly');
    expect(s.stdout).toContain('bastion restart demo');
    const state = JSON.parse(readFileSync(join(sb.bastionHome, 'workloads', 'demo', 'state.json'), 'utf8'));
    expect(state.status).toBe('error');
    expect(state.pid).toBeUndefined();
    const r = await sb.run(['restart', 'demo']);
    expect(r.code).toBe(0);
    expect(printedUrl(r.stdout)).toBe(url);
  });

  it('prints the proxy log', async () => {
    const r = await sb.run(['logs', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('listening on');
    expect(r.stdout).not.toMatch(/authorization/i);
  });

  it('removes the workload: process, state and files', async () => {
    const [w] = await listAll();
    const r = await sb.run(['rm', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Removed demo');
    expect(() => process.kill(w?.pid as number, 0)).toThrow();
    expect(existsSync(join(sb.bastionHome, 'workloads', 'demo'))).toBe(false);
    expect(await listAll()).toEqual([]);
  });
});
