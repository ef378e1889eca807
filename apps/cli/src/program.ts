/**
 * The command tree. This module only declares commands: every action loads its implementation on
 * demand (`await import(...)`), so `bastion --help` never loads the proxy, OAuth or Cedar code.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from './version.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError('must be a port number 0-65535.');
  }
  return n;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n <= 0) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

/** `--dpop`: sender-constrained tokens (RFC 9449) for `run` and `login`. */
const dpopOption = () =>
  new Option(
    '--dpop <mode>',
    'DPoP-bound tokens (RFC 9449): auto = when the authorization server and the remote support it (default), always, never',
  ).choices(['auto', 'always', 'never']);

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** Options shared by `run` (and stored for `restart`): OAuth client, static tokens, middleware. */
function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'workload name (default: derived from the host, mcp.example.com → example)')
    .option('--port <port>', 'local port (default: a free port, kept across restarts)', parsePort)
    .addOption(
      new Option('--transport <transport>', 'transport of the remote').choices(['streamable-http', 'sse']),
    )
    .option('--foreground', 'stay in the foreground instead of detaching (Ctrl+C stops)')
    .option('--stdio', 'bridge stdin/stdout to the remote (for clients that only launch commands)')
    .option('--no-browser', 'do not open a browser for the login; only print the URL')
    .option('--device-code', 'log in with the OAuth device authorization grant (headless machines)')
    .option('--client-credentials', 'use the OAuth client credentials grant (needs --client-id and a secret)')
    .option('--client-id <id>', 'pre-registered OAuth client id (skips dynamic registration)')
    .option('--client-secret <secret>', 'OAuth client secret (stored encrypted; prefer --client-secret-file)')
    .option('--client-secret-file <file>', 'file holding the OAuth client secret (read at every start)')
    .option('--client-metadata-url <url>', 'HTTPS URL of a Client ID Metadata Document to use as client id')
    .option(
      '--client-assertion-key-file <file>',
      'private key (PEM or JWK) for private_key_jwt client authentication, read at every token request',
    )
    .addOption(
      new Option(
        '--client-assertion-alg <alg>',
        'signing algorithm of client assertions (default: from the key)',
      ).choices(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']),
    )
    .option(
      '--client-assertion-kid <kid>',
      'kid header of client assertions (default: the JWK kid, else none)',
    )
    .option(
      '--jwt-bearer-assertion-file <file>',
      'log in with the RFC 7523 JWT-bearer grant using this workload JWT file (re-read at every token request)',
    )
    .option(
      '--idp-id-token-file <file>',
      'enterprise-managed authorization: exchange the ID token in this file at the enterprise IdP for an ID-JAG',
    )
    .option('--idp-issuer <url>', 'issuer of the enterprise IdP (its token endpoint is discovered)')
    .option('--idp-token-endpoint <url>', 'token endpoint of the enterprise IdP (skips discovery)')
    .option('--idp-client-id <id>', 'client id at the enterprise IdP')
    .option('--idp-client-secret-file <file>', 'file holding the client secret at the enterprise IdP')
    .option('--scopes <scopes>', 'scopes to request, comma or space separated (default: from the server)')
    .option('--no-resource-param', 'do not send the RFC 8707 resource parameter (for non-compliant servers)')
    .addOption(dpopOption())
    .option(
      '--scope-param-name <name>',
      'query parameter carrying the scopes on the authorize URL (e.g. user_scope)',
    )
    .option('--authorize-param <key=value>', 'extra authorize URL parameter (repeatable)', collect)
    .option(
      '--callback-port <port>',
      'loopback port of the OAuth callback (default: stable per server)',
      parsePort,
    )
    .option('--login-timeout <seconds>', 'how long to wait for the login to finish', parsePositiveInt, 300)
    .option(
      '--allow-issuer-mismatch',
      'accept an authorization server whose metadata issuer differs (logged)',
    )
    .option('--bearer-token-file <file>', 'static token for the remote, read from a file at every start')
    .option('--bearer-token-env <var>', 'static token for the remote, read from this environment variable')
    .option('--allowed-origin <origin>', 'extra allowed Origin of the local endpoint (repeatable)', collect)
    .option('--oidc-issuer <url>', 'require local clients to present tokens from this issuer')
    .option('--oidc-audience <aud>', 'audience local tokens must carry (with --oidc-issuer)')
    .option('--oidc-jwks-url <url>', 'JWKS URL of the local issuer (default: discovered)')
    .option('--oidc-introspection-url <url>', 'introspection endpoint for opaque local tokens')
    .option('--oidc-client-id <id>', 'client id for introspection')
    .option('--oidc-client-secret-env <var>', 'environment variable holding the introspection client secret')
    .option('--oidc-scopes <scopes>', 'scopes advertised to local clients, comma separated')
    .option('--authz-policy <file>', 'Cedar policy file enforced on every request')
    .option('--authz-entities <file>', 'Cedar entities JSON file')
    .option('--audit [destination]', 'audit log: "stdout" (the workload log) or a file path')
    .option('--tools <names>', 'only expose these tools, comma separated')
    .option('--tool-override <old=new>', 'rename a tool for clients (repeatable)', collect);
}

function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<void> | void>) {
  return async (...args: A) => {
    const fn = await load();
    await fn(...args);
  };
}

export function buildProgram(): Command {
  const program = new Command('bastion');
  program
    .description('Policy-enforcing local proxy for remote MCP servers: OAuth login, Cedar policy, audit.')
    .version(VERSION, '-V, --version', 'print the version')
    .addOption(
      new Option('--log-level <level>', 'log level of proxy processes')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples(
        'bastion run https://mcp.example.com/mcp',
        'bastion list',
        'bastion client setup cursor example',
        'bastion logs example -f',
      ) +
        '\nFiles live in $BASTION_HOME, else $XDG_STATE_HOME/bastion, else ~/.local/state/bastion.\nExit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 auth, 6 network, 7 denied.\n',
    );

  addRunOptions(
    program
      .command('run')
      .description('start a local proxy for a remote MCP server (logs in first when the server needs OAuth)')
      .argument('<url>', 'URL of the remote MCP server (http or https)'),
  )
    .addHelpText(
      'after',
      examples(
        'bastion run https://mcp.example.com/mcp',
        'bastion run https://mcp.example.com/mcp --name work --port 8931 --no-browser',
        'bastion run https://api.example.com/mcp --device-code',
        'bastion run https://api.example.com/mcp --client-credentials --client-id svc --client-assertion-key-file key.pem',
        'bastion run https://api.example.com/mcp --jwt-bearer-assertion-file /var/run/secrets/tokens/mcp',
        'bastion run https://mcp.example.com/mcp --client-id app --client-secret-file s --idp-issuer https://idp.example.com --idp-client-id bastion --idp-id-token-file id.jwt',
        'bastion run https://api.example.com/mcp --bearer-token-env EXAMPLE_TOKEN',
        'bastion run https://mcp.example.com/mcp --authz-policy policy.cedar --tools search,fetch',
        'bastion run --stdio https://mcp.example.com/mcp   # as a command in a client config',
      ),
    )
    .action(lazy(async () => (await import('./commands/run.js')).runCommand));

  program
    .command('list')
    .alias('ls')
    .description('list workloads (running ones; --all for every status)')
    .option('-a, --all', 'include stopped and failed workloads')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('bastion list', 'bastion list --all --json'))
    .action(lazy(async () => (await import('./commands/list.js')).listCommand));

  program
    .command('status')
    .description('show the status of one workload, with the reason when it is not running')
    .argument('<name>', 'workload name')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('bastion status example', 'bastion status example --json'))
    .action(lazy(async () => (await import('./commands/status.js')).statusCommand));

  program
    .command('stop')
    .description('stop a workload (its tokens, state and client entries are kept)')
    .argument('<name...>', 'workload names')
    .option('--timeout <seconds>', 'grace period before the process is killed', parsePositiveInt, 30)
    .addHelpText('after', examples('bastion stop example'))
    .action(lazy(async () => (await import('./commands/stop.js')).stopCommand));

  program
    .command('restart')
    .alias('start')
    .description('start a stopped workload again (reuses stored tokens; logs in only when they are unusable)')
    .argument('<name>', 'workload name')
    .option('--foreground', 'stay in the foreground')
    .option('--no-browser', 'do not open a browser if a new login is needed')
    .addHelpText('after', examples('bastion restart example'))
    .action(lazy(async () => (await import('./commands/restart.js')).restartCommand));

  program
    .command('rm')
    .description('remove a workload: stops it, deletes its tokens, state and client-config entries')
    .argument('<name...>', 'workload names')
    .option('--purge-registration', 'also delete the dynamic client registration at the authorization server')
    .addHelpText('after', examples('bastion rm example', 'bastion rm example --purge-registration'))
    .action(lazy(async () => (await import('./commands/rm.js')).rmCommand));

  program
    .command('logs')
    .description('print the log of a workload')
    .argument('<name>', 'workload name')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'only the last n lines', parsePositiveInt)
    .addHelpText('after', examples('bastion logs example', 'bastion logs example -f'))
    .action(lazy(async () => (await import('./commands/logs.js')).logsCommand));

  program
    .command('login')
    .description('log in to the remote of a workload again (after `unauthenticated`)')
    .argument('<name>', 'workload name')
    .option('--no-browser', 'do not open a browser; only print the URL')
    .option('--device-code', 'use the device authorization grant')
    .addOption(dpopOption())
    .addHelpText('after', examples('bastion login example', 'bastion login example --device-code'))
    .action(lazy(async () => (await import('./commands/login.js')).loginCommand));

  program
    .command('logout')
    .description('forget the tokens of a workload (a running proxy becomes unauthenticated)')
    .argument('<name>', 'workload name')
    .addHelpText('after', examples('bastion logout example'))
    .action(lazy(async () => (await import('./commands/login.js')).logoutCommand));

  program
    .command('stdio')
    .description('bridge stdin/stdout to a running workload (for clients that only launch commands)')
    .argument('<name>', 'workload name')
    .option('--log-file <file>', 'write bridge logs to this file instead of stderr')
    .addHelpText('after', examples('bastion stdio example'))
    .action(lazy(async () => (await import('./commands/stdio.js')).stdioCommand));

  const client = program
    .command('client')
    .description('add or remove a workload in the configuration of an MCP client app')
    .addHelpText(
      'after',
      examples('bastion client setup cursor example', 'bastion client setup vscode example --dry-run'),
    );
  const clientNames = ['claude-desktop', 'cursor', 'vscode', 'claude-code'];
  client
    .command('setup')
    .description('write the workload into a client config file (the rest of the file is preserved)')
    .addArgument(client.createArgument('<client>', 'client app').choices(clientNames))
    .argument('<name>', 'workload name')
    .option('--stdio', 'configure the stdio bridge command instead of the URL')
    .option('--dry-run', 'show the change as a diff without writing')
    .option('--config-file <file>', 'config file to edit (default: the client’s usual location)')
    .addHelpText(
      'after',
      examples(
        'bastion client setup claude-code example',
        'bastion client setup claude-desktop example   # always a stdio command',
        'bastion client setup vscode example --dry-run',
      ),
    )
    .action(lazy(async () => (await import('./commands/client.js')).clientSetupCommand));
  client
    .command('remove')
    .description('remove the workload from a client config file')
    .addArgument(client.createArgument('<client>', 'client app').choices(clientNames))
    .argument('<name>', 'workload name')
    .option('--dry-run', 'show the change as a diff without writing')
    .option('--config-file <file>', 'config file to edit (default: the client’s usual location)')
    .addHelpText('after', examples('bastion client remove cursor example'))
    .action(lazy(async () => (await import('./commands/client.js')).clientRemoveCommand));

  program
    .command('proxy')
    .description('run any RunConfig (JSON or YAML) in the foreground, like the proxy runner does')
    .requiredOption('-c, --config <file>', 'RunConfig file')
    .addHelpText('after', examples('bastion proxy --config run.yaml'))
    .action(lazy(async () => (await import('./commands/proxy.js')).proxyCommand));

  const authz = program.command('authz').description('Cedar policy tools');
  authz
    .command('check')
    .description('print the decision of policies for one MCP request and token claims')
    .requiredOption('--policy <file>', 'Cedar policy file (repeatable)', collect)
    .requiredOption('--token <file>', 'token claims as JSON (or a JWT, decoded without verification)')
    .requiredOption('--request <file>', 'the MCP JSON-RPC request as JSON')
    .option('--entities <file>', 'Cedar entities JSON file')
    .option('--schema <file>', 'Cedar schema file')
    .option('--server <name>', 'server name (MCP::"<name>")', 'mcp')
    .option('--annotations <json>', 'annotations of the called tool as its server declares them')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${examples('bastion authz check --policy policy.cedar --token claims.json --request call.json')}Exit code 0 when allowed, 7 when denied.\n`,
    )
    .action(lazy(async () => (await import('./commands/authz.js')).authzCheckCommand));

  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(program.createArgument('<shell>', 'shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      examples(
        'bastion completion bash > ~/.local/share/bash-completion/completions/bastion',
        'bastion completion zsh > ~/.zfunc/_bastion   # with fpath+=(~/.zfunc) in .zshrc',
        'bastion completion fish > ~/.config/fish/completions/bastion.fish',
      ),
    )
    .action(lazy(async () => (await import('./commands/completion.js')).completionCommand));

  // Internal commands: the detached proxy process and completion helpers.
  program
    .command('__serve', { hidden: true })
    .argument('<name>')
    .action(lazy(async () => (await import('./serve/worker.js')).serveCommand));
  program
    .command('__complete', { hidden: true })
    .argument('<what>')
    .action(lazy(async () => (await import('./commands/completion.js')).completeCommand));

  return program;
}
