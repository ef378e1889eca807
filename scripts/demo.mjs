#!/usr/bin/env node
// `npm start`: the built-in demo. Starts the demo remote MCP server (testkit) and Bastion in front of
// it on 127.0.0.1, then prints how to connect a client. No network access needed. Ctrl-C stops it.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const needed = ['packages/proxy-core/dist/index.js', 'packages/testkit/dist/index.js'];
if (needed.some((f) => !existsSync(`${root}/${f}`))) {
  console.log('Building Bastion (first start only)…');
  execSync('npx nx run-many -t build --outputStyle=static', {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const { startMcpUpstream } = await import('@bastion-mcp/testkit');
const { startProxyServer } = await import('@bastion-mcp/proxy-core');

const port = Number(process.env.PORT ?? 8080);
const upstream = await startMcpUpstream({});
const proxy = await startProxyServer({ upstreamUrl: upstream.url, serverName: 'demo', port });

console.log(`
Bastion demo is running.

  demo remote MCP server  ${upstream.url}
  Bastion (connect here)  ${proxy.url}

Try it:
  node scripts/try.mjs ${proxy.url}
or point any MCP client (Claude Desktop, Cursor, VS Code) at ${proxy.url}

Ctrl-C to stop.`);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    await proxy.close();
    await upstream.close();
    process.exit(0);
  });
}
