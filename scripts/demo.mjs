#!/usr/bin/env node
// `npm start`: the full Bastion demo, offline, on 127.0.0.1. It starts
//   - the testkit OAuth/OIDC provider (real oidc-provider) with two users: alice (group "engineering")
//     and bob (group "sales"),
//   - the testkit remote MCP server (echo, add, get_weather, delete_repo, …),
//   - Bastion in front of it through the same code path as the proxy runner (`startProxy` from
//     @bastion-mcp/runner) with OIDC auth, a Cedar policy (examples/policies/demo.cedar: engineering may
//     call tools, nobody may delete repositories), a tool filter (delete_repo is renamed remove_repo),
//     audit events and Prometheus metrics,
// then prints the URL, a bearer token for alice and one for bob, and the commands to try both.
// Audit events go to a file (.tmp/demo-audit.jsonl) so this console stays readable. Ctrl-C stops it.
//
//   npm start                 # PORT=8080 by default
//   PORT=9000 npm start
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const needed = [
  'packages/proxy-core',
  'packages/auth',
  'packages/token-exchange',
  'packages/authz',
  'packages/audit',
  'packages/tool-filter',
  'packages/telemetry',
  'packages/runner',
  'packages/testkit',
].map((p) => `${root}/${p}/dist/index.js`);
if (needed.some((f) => !existsSync(f))) {
  console.log('Building Bastion (first start only)…');
  execSync('npx nx run-many -t build --outputStyle=static', {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
}

const { startMcpUpstream, startTestIdp } = await import('@bastion-mcp/testkit');
const { startProxy, validateRunConfig } = await import('@bastion-mcp/runner');

const port = Number(process.env.PORT ?? 8080);
mkdirSync(`${root}/.tmp`, { recursive: true });
const auditFile = `${root}/.tmp/demo-audit.jsonl`;

const idp = await startTestIdp();
const upstream = await startMcpUpstream({});
const config = validateRunConfig({
  schemaVersion: 1,
  name: 'demo',
  remoteUrl: upstream.url,
  insecureLoopback: true, // plain http to the local demo servers (development only)
  listen: { host: '127.0.0.1', port },
  metrics: { host: '127.0.0.1', port: 0 },
  auth: {
    mode: 'oidc',
    issuer: idp.issuer,
    audience: idp.resource,
    resourceUrl: `http://127.0.0.1:${port}/mcp`,
    scopes: ['mcp:tools'],
  },
  tools: {
    filter: ['echo', 'add', 'get_weather', 'remove_repo'],
    overrides: {
      delete_repo: { name: 'remove_repo', description: 'Delete a repository (forbidden by policy)' },
    },
  },
  authz: { policyFile: `${root}/examples/policies/demo.cedar` },
  audit: { enabled: true, sinks: [{ type: 'file', path: auditFile }] },
  telemetry: { serviceName: 'bastion-demo' },
});

let proxy;
try {
  proxy = await startProxy(config, { env: {} });
} catch (err) {
  await upstream.close();
  await idp.close();
  console.error(`Bastion demo could not start: ${err.message}`);
  if (err.code === 'EADDRINUSE') console.error(`Port ${port} is taken: try PORT=9000 npm start`);
  process.exit(1);
}

const ttlSeconds = 3600;
const alice = await idp.issueAccessToken({
  sub: 'alice',
  resource: idp.resource,
  scope: 'mcp:tools',
  ttlSeconds,
});
const bob = await idp.issueAccessToken({
  sub: 'bob',
  resource: idp.resource,
  scope: 'mcp:tools',
  ttlSeconds,
});

console.log(`
Bastion demo is running (everything on 127.0.0.1, no network needed).

  Bastion — connect here  ${proxy.url}
  remote MCP server       ${upstream.url}
  OAuth/OIDC provider     ${idp.issuer}
  Prometheus metrics      ${proxy.metricsUrl}
  audit events (JSON)     ${auditFile}
  chain                   ${proxy.chain.join(' → ')}

Policy (examples/policies/demo.cedar): group "engineering" may call tools; nobody may call
delete_repo (shown to clients as "remove_repo"). The tokens are valid for ${ttlSeconds / 60} minutes.

1. Copy the two tokens into your shell:

export ALICE=${alice}
export BOB=${bob}

2. Try them:

  # alice (group engineering): lists the tools and calls echo — allowed
  node scripts/try.mjs ${proxy.url} --token "$ALICE"

  # bob (group sales): sees no tools, and the call is denied (403)
  node scripts/try.mjs ${proxy.url} --token "$BOB"

  # alice calling the forbidden tool: denied (403) although she is in engineering
  node scripts/try.mjs ${proxy.url} --token "$ALICE" --tool remove_repo --args '{"name":"demo"}'

  # no token: 401 with a WWW-Authenticate challenge
  node scripts/try.mjs ${proxy.url}

  # the audit trail (one JSON event per request, denials included)
  tail -f ${auditFile}

Any MCP client (Claude Desktop, Cursor, VS Code) works too: point it at ${proxy.url} with the
header "Authorization: Bearer $ALICE".

Ctrl-C to stop.`);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await proxy.close({ graceMs: 2000 });
    await upstream.close();
    await idp.close();
    process.exit(0);
  });
}
