#!/usr/bin/env node
// A one-line MCP client for trying a Bastion endpoint: connects with the real MCP SDK client, lists the
// tools and calls one.   node scripts/try.mjs <url> [--token <bearer>] [--tool echo] [--args '{"text":"hi"}']
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { token: { type: 'string' }, tool: { type: 'string', default: 'echo' }, args: { type: 'string' } },
});
const url = positionals[0];
if (!url) {
  console.error('usage: node scripts/try.mjs <url> [--token <bearer>] [--tool <name>] [--args <json>]');
  process.exit(2);
}
const headers = values.token ? { authorization: `Bearer ${values.token}` } : {};
const client = new Client({ name: 'bastion-try', version: '0.1.0' });
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  const { tools } = await client.listTools();
  console.log(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
  const args = values.args
    ? JSON.parse(values.args)
    : values.tool === 'echo'
      ? { text: 'hello from Bastion' }
      : {};
  const result = await client.callTool({ name: values.tool, arguments: args });
  const text = (result.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join(' ');
  console.log(`${values.tool} → ${result.isError ? 'error: ' : ''}${text}`);
  await client.close();
} catch (err) {
  console.error(`failed: ${err?.message ?? err}`);
  process.exit(1);
}
