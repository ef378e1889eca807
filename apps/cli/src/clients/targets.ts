/**
 * MCP client apps whose config files `bastion client setup` edits: where the file is, which key holds
 * the servers, and what an entry looks like (a URL, or the stdio bridge command).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CLIENT_IDS = ['claude-desktop', 'cursor', 'vscode', 'claude-code'] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

export interface EntryInput {
  name: string;
  url: string;
  transport: 'streamable-http' | 'sse';
  /** Absolute command and arguments of the stdio bridge (`node /path/bastion stdio <name>`). */
  command: string;
  args: string[];
}

export interface ClientTarget {
  readonly id: ClientId;
  readonly label: string;
  /** Environment variable that overrides the config file path (used by tests and unusual setups). */
  readonly envVar: string;
  /** Top-level key holding the server map. */
  readonly serversKey: 'mcpServers' | 'servers';
  /** Only launches commands (no remote URL support in its config file). */
  readonly stdioOnly: boolean;
  defaultPath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string;
  entry(input: EntryInput, stdio: boolean): Record<string, unknown>;
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** Per-user application config directory (where Electron apps keep their settings). */
function appConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return join(home(env), 'Library', 'Application Support');
  if (platform === 'win32') return env.APPDATA || join(home(env), 'AppData', 'Roaming');
  return env.XDG_CONFIG_HOME || join(home(env), '.config');
}

const stdioEntry = (i: EntryInput) => ({ command: i.command, args: i.args });

export const CLIENTS: Readonly<Record<ClientId, ClientTarget>> = {
  'claude-desktop': {
    id: 'claude-desktop',
    label: 'Claude Desktop',
    envVar: 'BASTION_CLAUDE_DESKTOP_CONFIG',
    serversKey: 'mcpServers',
    stdioOnly: true,
    defaultPath: (env, platform) => join(appConfigDir(env, platform), 'Claude', 'claude_desktop_config.json'),
    entry: (i) => stdioEntry(i),
  },
  cursor: {
    id: 'cursor',
    label: 'Cursor',
    envVar: 'BASTION_CURSOR_CONFIG',
    serversKey: 'mcpServers',
    stdioOnly: false,
    defaultPath: (env) => join(home(env), '.cursor', 'mcp.json'),
    entry: (i, stdio) => (stdio ? stdioEntry(i) : { url: i.url }),
  },
  vscode: {
    id: 'vscode',
    label: 'VS Code',
    envVar: 'BASTION_VSCODE_CONFIG',
    serversKey: 'servers',
    stdioOnly: false,
    defaultPath: (env, platform) => join(appConfigDir(env, platform), 'Code', 'User', 'mcp.json'),
    entry: (i, stdio) =>
      stdio
        ? { type: 'stdio', ...stdioEntry(i) }
        : { type: i.transport === 'sse' ? 'sse' : 'http', url: i.url },
  },
  'claude-code': {
    id: 'claude-code',
    label: 'Claude Code',
    envVar: 'BASTION_CLAUDE_CODE_CONFIG',
    serversKey: 'mcpServers',
    stdioOnly: false,
    defaultPath: (env) => join(home(env), '.claude.json'),
    entry: (i, stdio) =>
      stdio
        ? { type: 'stdio', ...stdioEntry(i) }
        : { type: i.transport === 'sse' ? 'sse' : 'http', url: i.url },
  },
};

export function configPathOf(
  target: ClientTarget,
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  return env[target.envVar] || target.defaultPath(env, platform);
}
