// Starts a benchmark role (upstream, proxy…) in its own process so it has its own event loop, as in a
// real deployment; the role prints one JSON line `{ "url": … }` when ready and answers RSS and CPU
// queries over IPC.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * @param {string} name role script under bench/roles
 * @param {string[]} args
 * @param {Record<string,string>} env
 * @param {string[]} execArgv extra node flags for the role (e.g. `--cpu-prof`)
 * @param {string} [benchDir] the bench directory to take the role from (default this one); another
 *   checkout's, to compare two builds in one run
 */
export async function spawnRole(name, args = [], env = {}, execArgv = [], benchDir = undefined) {
  const script = benchDir
    ? `${benchDir}/roles/${name}.mjs`
    : fileURLToPath(new URL(`../roles/${name}.mjs`, import.meta.url));
  const child = fork(script, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...execArgv],
  });
  const [msg] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench role ${name} exited early with code ${code}`);
    }),
  ]);
  // Never leave a role behind when the benchmark itself exits or crashes.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let stopping = false;
  child.on('exit', (code, signal) => {
    if (!stopping)
      console.error(`! bench role ${name} ${args.join(' ')} (${script}) died: ${code ?? signal}`);
  });
  let seq = 0;
  const ask = async (type) => {
    const id = ++seq;
    child.send({ type, id });
    for (;;) {
      const [m] = await once(child, 'message');
      if (m.type === type && m.id === id) return m;
    }
  };
  return {
    ...msg,
    async rss() {
      return (await ask('rss')).rss;
    },
    /**
     * The role's CPU time so far (user + system, µs) and the HTTP requests its server has received.
     * Take one sample before and one after a measurement: Δcpu / Δrequests is the CPU cost of one
     * request, a figure far less sensitive to machine load than req/s.
     */
    async cpu() {
      const m = await ask('cpu');
      return { cpuUs: m.cpuUs, requests: m.requests };
    },
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** CPU µs per request between two `cpu()` samples (NaN when no request was served). */
export function cpuPerRequest(before, after) {
  if (before === undefined || after === undefined) return Number.NaN;
  const n = after.requests - before.requests;
  return n > 0 ? (after.cpuUs - before.cpuUs) / n : Number.NaN;
}

/**
 * Used by role scripts: report readiness and serve RSS / CPU queries. Pass the role's node:http server
 * so requests are counted in-process (the count and the CPU time then cover exactly the same work).
 */
export function reportReady(info, server) {
  let requests = 0;
  server?.on('request', () => {
    requests++;
  });
  process.send({ type: 'ready', ...info });
  process.on('message', (m) => {
    if (m?.type === 'rss') process.send({ type: 'rss', id: m.id, rss: process.memoryUsage().rss });
    else if (m?.type === 'cpu') {
      const u = process.cpuUsage();
      process.send({ type: 'cpu', id: m.id, cpuUs: u.user + u.system, requests });
    }
  });
}
