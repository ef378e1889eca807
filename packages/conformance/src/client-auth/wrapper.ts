/**
 * The client the MCP conformance suite drives for its client `auth` scenarios: `bastion run <url>
 * --stdio` (the CLI's real OAuth client: detection, DCR/CIMD/pre-registration, PKCE, token storage)
 * with the MCP SDK client on the other end of the stdio bridge. It lists tools, calls the first one,
 * and exits 0 on success, 1 on any failure — what the suite expects of a client command.
 *
 * Invoked by the suite as `<node> dist/client-wrapper.js <server-url>` with `MCP_CONFORMANCE_SCENARIO`,
 * `MCP_CONFORMANCE_PROTOCOL_VERSION` (the revision its server speaks: session-era versions get the SDK
 * client, 2026-07-28 a stateless one, see modern-client.ts) and, for some scenarios,
 * `MCP_CONFORMANCE_CONTEXT` (pre-registered client credentials). The bastion
 * binary is `BASTION_CLI_BIN` (default: the workspace's `apps/cli/dist/main.js`). Logins complete
 * without a browser through the CLI's test-only `BASTION_TEST_AUTO_AUTHORIZE=1` switch: the suite's
 * authorization server approves every request by redirecting straight to the callback.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LEGACY_PROTOCOL_VERSIONS, listAndCallFirstTool, ModernStdioClient } from './modern-client.js';

interface ScenarioContext {
  client_id?: string;
  client_secret?: string;
  /** auth/client-credentials-jwt: the client's PKCS#8 key and its algorithm. */
  private_key_pem?: string;
  signing_algorithm?: string;
  /** auth/wif-jwt-bearer: a valid workload JWT (and invalid ones the wrapper does not use). */
  valid_jwt?: string;
  /** auth/enterprise-managed-authorization: the enterprise IdP and the user's ID token. */
  idp_client_id?: string;
  idp_id_token?: string;
  idp_issuer?: string;
  idp_token_endpoint?: string;
}

/**
 * The Client ID Metadata Document URL the suite's authorization server expects (`auth/basic-cimd`).
 * Configured for every scenario, as a user with a CIMD would: bastion uses it only where the AS
 * advertises `client_id_metadata_document_supported`, and registers dynamically elsewhere.
 */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';

/** A free loopback port for the OAuth callback (the default port derived from the URL may be taken). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `bastion run` flags for a scenario (pre-registered clients, client credentials). */
function bastionArgs(
  serverUrl: string,
  scenario: string,
  context: ScenarioContext,
  callbackPort: number,
): string[] {
  const args = [
    'run',
    serverUrl,
    '--stdio',
    '--no-browser',
    '--name',
    'conformance',
    '--login-timeout',
    '20',
  ];
  args.push('--callback-port', String(callbackPort), '--client-metadata-url', CIMD_URL);
  // Key material and tokens go to files (0600) bastion reads, not to argv; removed at exit.
  let secrets: string | undefined;
  const secretFile = (name: string, value: string): string => {
    if (!secrets) {
      const dir = mkdtempSync(join(tmpdir(), 'bastion-conformance-secrets-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      secrets = dir;
    }
    const file = join(secrets, name);
    writeFileSync(file, value, { mode: 0o600 });
    return file;
  };
  if (context.client_id) args.push('--client-id', context.client_id);
  if (context.client_secret)
    args.push('--client-secret-file', secretFile('client-secret', context.client_secret));
  if (scenario === 'auth/client-credentials-basic') args.push('--client-credentials');
  if (context.private_key_pem) {
    args.push(
      '--client-credentials',
      '--client-assertion-key-file',
      secretFile('client-key.pem', context.private_key_pem),
    );
    if (context.signing_algorithm) args.push('--client-assertion-alg', context.signing_algorithm);
  }
  if (context.valid_jwt)
    args.push('--jwt-bearer-assertion-file', secretFile('workload.jwt', context.valid_jwt));
  if (context.idp_id_token) {
    args.push('--idp-id-token-file', secretFile('id-token.jwt', context.idp_id_token));
    if (context.idp_issuer) args.push('--idp-issuer', context.idp_issuer);
    if (context.idp_token_endpoint) args.push('--idp-token-endpoint', context.idp_token_endpoint);
    if (context.idp_client_id) args.push('--idp-client-id', context.idp_client_id);
  }
  return args;
}

async function main(): Promise<number> {
  const serverUrl = process.argv.at(-1);
  if (!serverUrl || !/^https?:\/\//.test(serverUrl)) {
    process.stderr.write('usage: client-wrapper <server-url>\n');
    return 2;
  }
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as ScenarioContext;
  const bin =
    process.env.BASTION_CLI_BIN ??
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'apps', 'cli', 'dist', 'main.js');
  const home = mkdtempSync(join(tmpdir(), 'bastion-conformance-client-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    HOME: home,
    BASTION_HOME: join(home, 'state'),
    BASTION_TOKEN_STORE: 'file',
    BASTION_TEST_AUTO_AUTHORIZE: '1',
    NODE_OPTIONS: '',
  });
  const args = [bin, ...bastionArgs(serverUrl, scenario, context, await freePort())];
  const clientInfo = { name: 'bastion-conformance-client', version: '1.0.0' };
  // The suite names the revision its server speaks. Session-era revisions: the SDK client. Anything
  // newer (2026-07-28): the SDK 1.32 has no stateless client, so a hand-written one (modern-client.ts).
  const protocolVersion = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
  if (!LEGACY_PROTOCOL_VERSIONS.has(protocolVersion)) {
    const modern = new ModernStdioClient({
      command: process.execPath,
      args,
      env,
      protocolVersion,
      clientInfo,
    });
    try {
      await listAndCallFirstTool(modern);
      return 0;
    } catch (err) {
      process.stderr.write(`client-wrapper: ${(err as Error).message}\n`);
      return 1;
    } finally {
      await modern.close().catch(() => {});
      rmSync(home, { recursive: true, force: true });
    }
  }
  const client = new Client(clientInfo);
  const transport = new StdioClientTransport({ command: process.execPath, args, env, stderr: 'inherit' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    const first = tools[0];
    if (first) {
      const result = await client.callTool({ name: first.name, arguments: {} });
      if (result.isError) throw new Error(`tools/call ${first.name} returned an error result`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`client-wrapper: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await client.close().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}

process.exitCode = await main();
