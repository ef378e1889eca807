/** `bastion authz check`: the Cedar decision for one MCP request and a token's claims. */
import { readFileSync } from 'node:fs';
import { CliError, CliErrorCode, ExitCode, usageError } from '../errors.js';
import { stdoutColors } from '../ui/color.js';
import { out } from './context.js';

interface AuthzCheckOpts {
  policy: string[];
  token: string;
  request: string;
  entities?: string;
  schema?: string;
  server: string;
  annotations?: string;
  json?: boolean;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(
      CliErrorCode.NotFound,
      `cannot read the ${what} file ${path} (${(err as NodeJS.ErrnoException).code})`,
      {
        fix: `Check the path given to --${what}`,
        exitCode: ExitCode.NotFound,
      },
    );
  }
}

/** Claims from a JSON file, or from a JWT (the payload is decoded WITHOUT verification: offline tool). */
export function claimsFrom(text: string, path: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(trimmed)) {
    const payload = trimmed.split('.')[1] ?? '';
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw usageError(
        `${path} looks like a JWT but its payload is not JSON`,
        'Pass the token claims as a JSON object',
      );
    }
  }
  try {
    const v = JSON.parse(trimmed) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw usageError(
      `${path} is not a JSON object of token claims`,
      'Write the claims as JSON, e.g. {"sub":"alice","groups":["dev"]}',
    );
  }
}

function jsonFrom(text: string, path: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON`, `Write the ${what} as JSON`);
  }
}

export async function authzCheckCommand(opts: AuthzCheckOpts): Promise<void> {
  const claims = claimsFrom(readText(opts.token, 'token'), opts.token);
  const request = jsonFrom(readText(opts.request, 'request'), opts.request, 'MCP JSON-RPC request');
  for (const p of opts.policy) readText(p, 'policy');
  let annotations: Record<string, unknown> | undefined;
  if (opts.annotations) {
    const v = jsonFrom(opts.annotations, '--annotations', 'annotations object');
    if (typeof v !== 'object' || v === null)
      throw usageError('--annotations must be a JSON object', 'Pass e.g. \'{"destructiveHint":true}\'');
    annotations = v as Record<string, unknown>;
  }
  const { checkRequest } = await import('@bastion-mcp/authz');
  let result: Awaited<ReturnType<typeof checkRequest>>;
  try {
    result = await checkRequest({
      policyFiles: opts.policy,
      entitiesFile: opts.entities,
      schemaFile: opts.schema,
      claims,
      request: request as never,
      serverName: opts.server,
      toolAnnotations: annotations,
    });
  } catch (err) {
    if (err instanceof TypeError) throw usageError(err.message, 'Check the --token and --request files');
    throw new CliError(CliErrorCode.Config, (err as Error).message, {
      fix: 'Fix the policy and try again',
      exitCode: ExitCode.Usage,
      cause: err,
    });
  }
  if (opts.json) {
    out(JSON.stringify(result, null, 2));
  } else {
    const c = stdoutColors();
    out(result.decision === 'allow' ? c.green('ALLOW') : c.red('DENY'));
    if (result.principal) out(`principal: ${result.principal.type}::${JSON.stringify(result.principal.id)}`);
    if (result.action) out(`action:    Action::${JSON.stringify(result.action)}`);
    if (result.resource) out(`resource:  ${result.resource.type}::${JSON.stringify(result.resource.id)}`);
    if (result.policyIds.length > 0) out(`policies:  ${result.policyIds.join(', ')}`);
    for (const r of result.reasons) out(`reason:    ${r}`);
  }
  process.exitCode = result.decision === 'allow' ? ExitCode.Ok : ExitCode.Denied;
}
