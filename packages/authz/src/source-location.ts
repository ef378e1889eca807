/** Cedar reports source locations as UTF-8 byte offsets; people want lines and columns. */

export interface LineColumn {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in characters. */
  readonly column: number;
}

/** Line and column of the UTF-8 byte `offset` inside `text`. */
export function lineColumnAt(text: string, offset: number): LineColumn {
  const before = Buffer.from(text, 'utf8').subarray(0, Math.max(0, offset)).toString('utf8');
  const lines = before.split('\n');
  const last = lines[lines.length - 1] ?? '';
  return { line: lines.length, column: last.length + 1 };
}

/** UTF-8 byte length of `text` (to turn a character index into a byte offset). */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
