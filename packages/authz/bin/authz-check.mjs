#!/usr/bin/env node
/**
 * bastion-authz-check — print the Cedar decision for one MCP request.
 *
 *   bastion-authz-check --policy policies.cedar [--policy more.cedar] [--entities entities.json]
 *                       [--schema schema.cedarschema] --token claims.json --request request.json
 *                       [--server demo] [--annotations '{"destructiveHint":true}']
 *
 * `--token` is a JSON file of token claims (a decoded JWT payload); `--request` a JSON-RPC message.
 * Exit code: 0 allow, 2 deny, 1 usage or load error. Requires the package to be built (dist/).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkRequest } from '../dist/index.js';

const usage =
  'usage: bastion-authz-check --policy <file.cedar> --token <claims.json> --request <mcp.json> ' +
  '[--entities <file.json>] [--schema <file>] [--server <name>] [--annotations <json>]';

function readJson(path, what) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${what} "${path}": ${err.message}`);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      policy: { type: 'string', multiple: true },
      entities: { type: 'string' },
      schema: { type: 'string' },
      token: { type: 'string' },
      request: { type: 'string' },
      server: { type: 'string' },
      annotations: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.policy || !values.token || !values.request) {
    console.error(usage);
    return values.help ? 0 : 1;
  }
  const result = await checkRequest({
    policyFiles: values.policy,
    entitiesFile: values.entities,
    schemaFile: values.schema,
    claims: readJson(values.token, 'token claims'),
    request: readJson(values.request, 'request'),
    serverName: values.server,
    toolAnnotations: values.annotations ? JSON.parse(values.annotations) : undefined,
  });
  console.log(JSON.stringify(result, null, 2));
  return result.decision === 'allow' ? 0 : 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err.message);
    process.exitCode = 1;
  },
);
