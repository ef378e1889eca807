/** A minimal spinner on stderr, only on a TTY; elsewhere the text is printed once. */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Spinner {
  stop(finalLine?: string): void;
}

export function startSpinner(text: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) {
    stream.write(`${text}\n`);
    return { stop: (line) => line && stream.write(`${line}\n`) };
  }
  let i = 0;
  const draw = () => stream.write(`\r${FRAMES[i++ % FRAMES.length]} ${text}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    stop(line) {
      clearInterval(timer);
      stream.write('\r\u001b[2K');
      if (line) stream.write(`${line}\n`);
    },
  };
}
