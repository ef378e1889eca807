/**
 * Which client config files bastion wrote an entry into (`<home>/clients.json`), so `bastion rm`
 * removes them and `client remove` forgets them.
 */
import { existsSync } from 'node:fs';
import { readJsonFile, writeJsonAtomic } from '../fs-util.js';
import type { BastionPaths } from '../paths.js';
import { readConfig, parseConfig, setJsonValue, writeConfig } from './edit.js';
import { CLIENTS, type ClientId } from './targets.js';

export interface ClientEntryRecord {
  client: ClientId;
  name: string;
  path: string;
  key: string;
}

function load(paths: BastionPaths): ClientEntryRecord[] {
  try {
    return readJsonFile<{ entries: ClientEntryRecord[] }>(paths.clientsFile)?.entries ?? [];
  } catch {
    return [];
  }
}

function save(paths: BastionPaths, entries: ClientEntryRecord[]): void {
  writeJsonAtomic(paths.clientsFile, { entries });
}

export function recordEntry(paths: BastionPaths, rec: ClientEntryRecord): void {
  const entries = load(paths).filter(
    (e) => !(e.client === rec.client && e.name === rec.name && e.path === rec.path),
  );
  save(paths, [...entries, rec]);
}

export function forgetEntry(paths: BastionPaths, client: ClientId, name: string, path: string): void {
  save(
    paths,
    load(paths).filter((e) => !(e.client === client && e.name === name && e.path === path)),
  );
}

/** Remove every recorded entry of workload `name` from its config file. Returns what was removed. */
export function removeAllClientEntries(paths: BastionPaths, name: string): ClientEntryRecord[] {
  const all = load(paths);
  const mine = all.filter((e) => e.name === name);
  const removed: ClientEntryRecord[] = [];
  for (const rec of mine) {
    if (!existsSync(rec.path)) continue;
    try {
      const cfg = readConfig(rec.path);
      const servers = parseConfig(cfg)[rec.key];
      if (!servers || typeof servers !== 'object' || !(name in (servers as object))) continue;
      writeConfig(rec.path, setJsonValue(cfg, [rec.key, name], undefined));
      removed.push(rec);
    } catch {
      // an unparsable file is left alone
    }
  }
  if (mine.length > 0)
    save(
      paths,
      all.filter((e) => e.name !== name),
    );
  return removed;
}

export { CLIENTS };
