/** `bastion client setup|remove` on fixture config files of every client; `rm` cleans up. */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'jsonc-parser';
import { CLI_ROOT, createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';

let up: McpUpstream;
let sb: Sandbox;
let url: string;
const fixture = (f: string) => join(CLI_ROOT, 'test', 'fixtures', f);

beforeAll(async () => {
  ensureBuilt();
  up = await startMcpUpstream();
  sb = createSandbox();
  const r = await sb.run(['run', up.url, '--name', 'demo']);
  expect(r.code).toBe(0);
  url = printedUrl(r.stdout);
});

afterAll(async () => {
  sb?.cleanup();
  await up?.close();
});

describe('bastion client setup', () => {
  it('vscode: adds an http entry to a JSONC file, keeping comments, trailing commas and tabs', async () => {
    const file = join(sb.dir, 'vscode.json');
    copyFileSync(fixture('vscode-mcp.jsonc.txt'), file);
    const r = await sb.run(['client', 'setup', 'vscode', 'demo'], { env: { BASTION_VSCODE_CONFIG: file } });
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('// VS Code MCP servers (JSON with comments)');
    expect(text).toContain('"command": "my-server", // keep me');
    expect(text).toMatch(/\n\t\t"demo": \{/);
    const cfg = parse(text) as { servers: Record<string, unknown>; inputs: unknown[] };
    expect(cfg.servers.demo).toEqual({ type: 'http', url });
    expect(cfg.servers.existing).toEqual({ type: 'stdio', command: 'my-server' });
    expect(cfg.inputs).toEqual([]);
  });

  it('claude-code: keeps every other key of ~/.claude.json and its 4-space indentation', async () => {
    mkdirSync(sb.home, { recursive: true });
    const file = join(sb.home, '.claude.json');
    // written here, not as a fixture file: the repository formatter would re-indent a .json fixture
    const claudeJson = {
      numStartups: 42,
      projects: { '/home/me/repo': { allowedTools: [] } },
      mcpServers: { other: { type: 'http', url: 'https://example.com/mcp' } },
    };
    writeFileSync(file, `${JSON.stringify(claudeJson, null, 4)}\n`);
    const r = await sb.run(['client', 'setup', 'claude-code', 'demo']);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const cfg = JSON.parse(text);
    expect(cfg.mcpServers.demo).toEqual({ type: 'http', url });
    expect(cfg.mcpServers.other).toEqual({ type: 'http', url: 'https://example.com/mcp' });
    expect(cfg.numStartups).toBe(42);
    expect(cfg.projects).toEqual({ '/home/me/repo': { allowedTools: [] } });
    expect(text).toMatch(/\n {8}"demo": \{/);
  });

  it('cursor: creates the file when missing', async () => {
    const r = await sb.run(['client', 'setup', 'cursor', 'demo']);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(readFileSync(join(sb.home, '.cursor', 'mcp.json'), 'utf8'));
    expect(cfg).toEqual({ mcpServers: { demo: { url } } });
  });

  it('claude-desktop: always the stdio bridge command', async () => {
    const dir = join(sb.home, '.config', 'Claude');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'claude_desktop_config.json'), '{\n  "globalShortcut": "Ctrl+Space"\n}\n');
    const r = await sb.run(['client', 'setup', 'claude-desktop', 'demo']);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'claude_desktop_config.json'), 'utf8'));
    expect(cfg.globalShortcut).toBe('Ctrl+Space');
    expect(cfg.mcpServers.demo.command).toBe(process.execPath);
    expect(cfg.mcpServers.demo.args.slice(-2)).toEqual(['stdio', 'demo']);
    expect(cfg.mcpServers.demo.args[0]).toMatch(/main\.js$/);
  });

  it('--dry-run prints a diff and writes nothing', async () => {
    const file = join(sb.dir, 'dry.json');
    writeFileSync(file, '{\n  "mcpServers": {}\n}\n');
    const r = await sb.run(['client', 'setup', 'cursor', 'demo', '--dry-run', '--config-file', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`--- ${file}`);
    expect(r.stdout).toMatch(/^\+\s+"demo": \{/m);
    expect(readFileSync(file, 'utf8')).toBe('{\n  "mcpServers": {}\n}\n');
  });

  it('refuses to touch a file it cannot parse, with the fix', async () => {
    const file = join(sb.dir, 'broken.json');
    writeFileSync(file, '{ "mcpServers": { ');
    const r = await sb.run(['client', 'setup', 'cursor', 'demo', '--config-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not a valid JSON object');
    expect(r.stderr).toContain('Fix the file by hand');
    expect(readFileSync(file, 'utf8')).toBe('{ "mcpServers": { ');
  });

  it('client remove deletes only that entry', async () => {
    const file = join(sb.dir, 'remove.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { keep: { url: 'x' } } }, null, 2));
    expect((await sb.run(['client', 'setup', 'cursor', 'demo', '--config-file', file])).code).toBe(0);
    const r = await sb.run(['client', 'remove', 'cursor', 'demo', '--config-file', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ mcpServers: { keep: { url: 'x' } } });
  });

  it('bastion rm removes the workload from every client config it was added to', async () => {
    const vscode = join(sb.dir, 'vscode.json');
    const r = await sb.run(['rm', 'demo'], { env: { BASTION_VSCODE_CONFIG: vscode } });
    expect(r.code).toBe(0);
    expect((parse(readFileSync(vscode, 'utf8')) as { servers: object }).servers).not.toHaveProperty('demo');
    expect(readFileSync(vscode, 'utf8')).toContain('// keep me');
    expect(JSON.parse(readFileSync(join(sb.home, '.claude.json'), 'utf8')).mcpServers).toEqual({
      other: { type: 'http', url: 'https://example.com/mcp' },
    });
    expect(JSON.parse(readFileSync(join(sb.home, '.cursor', 'mcp.json'), 'utf8')).mcpServers).toEqual({});
    expect(existsSync(join(sb.bastionHome, 'workloads', 'demo'))).toBe(false);
  });
});
