/** `bastion logs <name> [-f]`: print the proxy log (JSON lines rendered for humans on a TTY). */
import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { createInterface } from 'node:readline';
import { type CommandLike, context, out } from './context.js';

function render(line: string, pretty: boolean): string {
  if (!pretty) return line;
  try {
    const o = JSON.parse(line) as { time?: number; level?: number; msg?: string };
    const level =
      { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }[o.level ?? 30] ?? 'INFO';
    const time = o.time ? new Date(o.time).toISOString() : '';
    return `${time} ${level.padEnd(5)} ${o.msg ?? line}`;
  } catch {
    return line;
  }
}

async function printRange(file: string, start: number, pretty: boolean, lastN?: number): Promise<number> {
  const size = statSync(file).size;
  if (size <= start) return size;
  const rl = createInterface({
    input: createReadStream(file, { start, end: size - 1 }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const lines: string[] = [];
  for await (const line of rl) {
    if (lastN !== undefined) {
      lines.push(line);
      if (lines.length > lastN) lines.shift();
    } else out(render(line, pretty));
  }
  for (const l of lines) out(render(l, pretty));
  return size;
}

export async function logsCommand(
  name: string,
  opts: { follow?: boolean; lines?: number },
  cmd: CommandLike,
): Promise<void> {
  const { store, paths } = context(cmd);
  store.getDefinition(name);
  const file = paths.logFile(name);
  const pretty = Boolean(process.stdout.isTTY);
  if (!existsSync(file)) {
    if (!opts.follow) {
      out(`No log yet for ${name} (it has not been started).`);
      return;
    }
  }
  let offset = existsSync(file) ? await printRange(file, 0, pretty, opts.lines) : 0;
  if (!opts.follow) return;
  await new Promise<void>((resolve) => {
    let busy = false;
    const tick = async () => {
      if (busy || !existsSync(file)) return;
      busy = true;
      try {
        const size = statSync(file).size;
        if (size < offset) offset = 0; // truncated or rotated
        offset = await printRange(file, offset, pretty);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), 250);
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(paths.workloadDir(name), () => void tick());
    } catch {
      // polling alone is enough
    }
    const stop = () => {
      clearInterval(timer);
      watcher?.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
