import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** Text of the `demo://readme` resource. */
export const README_TEXT =
  '# Demo upstream\n\nA test MCP server used by Bastion tests. Nothing here is secret.\n';
/** Text of the `demo://secret` resource (a stand-in for data policies must protect). */
export const SECRET_TEXT = 'launch-code: 0000-TEST-ONLY';

/** Registers the `greeting` prompt and the `demo://readme` / `demo://secret` resources. */
export function registerDemoContent(server: McpServer): void {
  server.registerPrompt(
    'greeting',
    {
      title: 'Greeting',
      description: 'A friendly greeting for someone.',
      argsSchema: { name: z.string().describe('Who to greet') },
    },
    ({ name }) => ({
      description: `Greeting for ${name}`,
      messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }],
    }),
  );
  server.registerResource(
    'readme',
    'demo://readme',
    { title: 'Readme', description: 'Public readme of the demo upstream.', mimeType: 'text/markdown' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: README_TEXT }] }),
  );
  server.registerResource(
    'secret',
    'demo://secret',
    { title: 'Secret', description: 'Sensitive document (for policy tests).', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: SECRET_TEXT }] }),
  );
}
