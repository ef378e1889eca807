/**
 * A minimal 2026-07-28 (stateless) MCP client over stdio, for the conformance client wrapper: the MCP
 * SDK 1.32 client only speaks the session era (initialize, session id), so this one writes the
 * newline-delimited JSON-RPC itself. No handshake; every request carries the revision's `_meta`
 * (`protocolVersion`, `clientCapabilities`, `clientInfo`), and `bastion run --stdio` mirrors them
 * into the HTTP headers the revision requires.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';

/** Session-era revisions: for these the wrapper keeps the SDK client. */
export const LEGACY_PROTOCOL_VERSIONS: ReadonlySet<string> = new Set([
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
]);

export interface ModernStdioOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The protocol version every request names in `_meta`. */
  protocolVersion: string;
  clientInfo: { name: string; version: string };
  /** `clientCapabilities` of every request. Default `{}` (the wrapper answers no server input). */
  capabilities?: Record<string, unknown> | undefined;
}

interface Response {
  id?: unknown;
  method?: unknown;
  result?: Record<string, unknown>;
  error?: { code?: unknown; message?: unknown };
}

export class ModernStdioClient {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  readonly #options: ModernStdioOptions;
  readonly #exited: Promise<void>;
  #nextId = 1;
  #gone: Error | undefined;

  constructor(options: ModernStdioOptions) {
    this.#options = options;
    this.#child = spawn(options.command, options.args, {
      env: options.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // EPIPE after bastion exited: the exit handler below already failed what was pending.
    this.#child.stdin.on('error', () => {});
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#onLine(line));
    this.#exited = new Promise((resolve) => {
      const end = (why: string) => {
        this.#gone ??= new Error(why);
        for (const p of this.#pending.values()) p.reject(this.#gone);
        this.#pending.clear();
        resolve();
      };
      this.#child.once('error', (e) => end(`could not start bastion: ${e.message}`));
      this.#child.once('exit', (code, signal) => end(`bastion exited (${signal ?? `code ${code}`})`));
    });
  }

  #onLine(line: string): void {
    let message: Response;
    try {
      message = JSON.parse(line) as Response;
    } catch {
      this.#gone ??= new Error(`bastion wrote a non-JSON line to stdout: ${line.slice(0, 200)}`);
      for (const p of this.#pending.values()) p.reject(this.#gone);
      this.#pending.clear();
      return;
    }
    if (message.method !== undefined || typeof message.id !== 'number') return; // notifications
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    pending.resolve(message);
  }

  /** Send one request and return its `result`; a JSON-RPC error or an `input_required` result throws. */
  async request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.#gone) throw this.#gone;
    const id = this.#nextId++;
    const answer = new Promise<Response>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': this.#options.protocolVersion,
      'io.modelcontextprotocol/clientCapabilities': this.#options.capabilities ?? {},
      'io.modelcontextprotocol/clientInfo': this.#options.clientInfo,
    };
    this.#child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta } })}\n`,
    );
    const response = await answer;
    if (response.error) {
      throw new Error(`${method} failed: ${String(response.error.message)} (${String(response.error.code)})`);
    }
    const result = response.result ?? {};
    if (result.resultType === 'input_required') {
      throw new Error(
        `${method} asked for client input (input_required), which this client does not provide`,
      );
    }
    return result;
  }

  /** End the session: close stdin (bastion stops on EOF) and wait for the process to exit. */
  async close(): Promise<void> {
    this.#child.stdin.end();
    await this.#exited;
  }
}

/**
 * What the wrapper does on a modern server: list the tools and call the first one with no arguments.
 * Throws when any step fails (including an `isError` tool result).
 */
export async function listAndCallFirstTool(client: ModernStdioClient): Promise<void> {
  const { tools } = (await client.request('tools/list')) as { tools?: { name?: unknown }[] };
  const first = Array.isArray(tools) ? tools[0] : undefined;
  if (first === undefined) return;
  if (typeof first.name !== 'string') throw new Error('tools/list returned a tool without a name');
  const result = await client.request('tools/call', { name: first.name, arguments: {} });
  if (result.isError === true) throw new Error(`tools/call ${first.name} returned an error result`);
}
