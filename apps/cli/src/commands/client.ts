/** `bastion client setup|remove <client> <name>`. */
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { lineDiff } from '../clients/diff.js';
import { parseConfig, readConfig, setJsonValue, writeConfig } from '../clients/edit.js';
import { forgetEntry, recordEntry } from '../clients/registry.js';
import { CLIENTS, type ClientId, configPathOf } from '../clients/targets.js';
import { localUrl } from '../workload/store.js';
import { type CommandLike, context, err, out } from './context.js';

interface ClientOpts {
  stdio?: boolean;
  dryRun?: boolean;
  configFile?: string;
}

/** How a client launches the stdio bridge: absolute node + absolute script (clients have a poor PATH). */
export function bridgeCommand(name: string): { command: string; args: string[] } {
  const script = process.argv[1] ? realpathSync(process.argv[1]) : 'bastion';
  return { command: process.execPath, args: [script, 'stdio', name] };
}

function pathOf(client: ClientId, opts: ClientOpts): string {
  if (opts.configFile) return isAbsolute(opts.configFile) ? opts.configFile : resolve(opts.configFile);
  return configPathOf(CLIENTS[client]);
}

export async function clientSetupCommand(
  client: ClientId,
  name: string,
  opts: ClientOpts,
  cmd: CommandLike,
): Promise<void> {
  const { store, paths } = context(cmd);
  const def = store.getDefinition(name);
  const target = CLIENTS[client];
  const stdio = Boolean(opts.stdio) || target.stdioOnly;
  const path = pathOf(client, opts);
  const entry = target.entry(
    { name, url: localUrl(def), transport: def.transport, ...bridgeCommand(name) },
    stdio,
  );
  const cfg = readConfig(path);
  const next = setJsonValue(cfg, [target.serversKey, name], entry);
  if (opts.dryRun) {
    out(lineDiff(cfg.text, next, path));
    return;
  }
  writeConfig(path, next);
  recordEntry(paths, { client, name, path, key: target.serversKey });
  out(`Added ${name} to ${target.label} (${path}) as ${stdio ? 'a stdio command' : localUrl(def)}.`);
  err(`Restart ${target.label} (or reload its MCP servers) to pick it up.`);
}

export async function clientRemoveCommand(
  client: ClientId,
  name: string,
  opts: ClientOpts,
  cmd: CommandLike,
): Promise<void> {
  const { paths } = context(cmd);
  const target = CLIENTS[client];
  const path = pathOf(client, opts);
  const cfg = readConfig(path);
  const servers = parseConfig(cfg)[target.serversKey];
  if (!servers || typeof servers !== 'object' || !(name in (servers as object))) {
    forgetEntry(paths, client, name, path);
    out(`${name} is not configured in ${target.label} (${path}); nothing to do.`);
    return;
  }
  const next = setJsonValue(cfg, [target.serversKey, name], undefined);
  if (opts.dryRun) {
    out(lineDiff(cfg.text, next, path));
    return;
  }
  writeConfig(path, next);
  forgetEntry(paths, client, name, path);
  out(`Removed ${name} from ${target.label} (${path}).`);
}
