// Starts a benchmark role (upstream, proxy…) in its own process so it has its own event loop, as in a
// real deployment; the role prints one JSON line `{ "url": … }` when ready and answers RSS queries.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export async function spawnRole(name, args = [], env = {}) {
  const script = fileURLToPath(new URL(`../roles/${name}.mjs`, import.meta.url));
  const child = fork(script, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const [msg] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench role ${name} exited early with code ${code}`);
    }),
  ]);
  let seq = 0;
  return {
    ...msg,
    async rss() {
      const id = ++seq;
      child.send({ type: 'rss', id });
      for (;;) {
        const [m] = await once(child, 'message');
        if (m.type === 'rss' && m.id === id) return m.rss;
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Used by role scripts: report readiness and serve RSS queries. */
export function reportReady(info) {
  process.send({ type: 'ready', ...info });
  process.on('message', (m) => {
    if (m?.type === 'rss') process.send({ type: 'rss', id: m.id, rss: process.memoryUsage().rss });
  });
}
