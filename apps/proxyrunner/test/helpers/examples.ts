import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EXAMPLES } from './runner-process.js';

// biome-ignore lint/suspicious/noExplicitAny: example files are patched as loose JSON
export type Json = Record<string, any>;

/** An example RunConfig from examples/ as a plain object (JSON or YAML), ready to be patched. */
export function readExample(file: string): Json {
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  return (file.endsWith('.json') ? JSON.parse(text) : parse(text)) as Json;
}

/** Points an example at local test servers: loopback http, free ports. */
export function localise(cfg: Json, remoteUrl: string): Json {
  return {
    ...cfg,
    remoteUrl,
    insecureLoopback: true,
    listen: { ...cfg.listen, host: '127.0.0.1', port: 0 },
    ...(cfg.metrics ? { metrics: { ...cfg.metrics, host: '127.0.0.1', port: 0 } } : {}),
  };
}
