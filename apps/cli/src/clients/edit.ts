/**
 * Edit one entry of a JSON / JSON-with-comments config file, leaving every other byte alone where
 * possible (jsonc-parser computes minimal edits; comments, key order and indentation survive).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  applyEdits,
  type FormattingOptions,
  modify,
  type ParseError,
  parse,
  printParseErrorCode,
} from 'jsonc-parser';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import { writeFileAtomic } from '../fs-util.js';

export interface ConfigText {
  readonly path: string;
  readonly exists: boolean;
  readonly text: string;
}

export function readConfig(path: string): ConfigText {
  if (!existsSync(path)) return { path, exists: false, text: '' };
  return { path, exists: true, text: readFileSync(path, 'utf8') };
}

/** Indentation and line ending of an existing file (default: 2 spaces, \n). */
export function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /^([ \t]+)\S/m.exec(text);
  const indent = m?.[1] ?? '  ';
  return indent.startsWith('\t')
    ? { insertSpaces: false, tabSize: 1, eol }
    : { insertSpaces: true, tabSize: indent.length, eol };
}

export function parseConfig(cfg: ConfigText): Record<string, unknown> {
  if (!cfg.exists || cfg.text.trim() === '') return {};
  const errors: ParseError[] = [];
  const value = parse(cfg.text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || typeof value !== 'object' || value === null || Array.isArray(value)) {
    const first = errors[0];
    const where = first ? ` (${printParseErrorCode(first.error)} at offset ${first.offset})` : '';
    throw new CliError(CliErrorCode.ClientConfig, `${cfg.path} is not a valid JSON object${where}`, {
      fix: 'Fix the file by hand (bastion never overwrites a file it cannot parse), or pass --config-file',
      exitCode: ExitCode.Error,
    });
  }
  return value as Record<string, unknown>;
}

/** The new text with `path` set to `value` (or removed when `value` is undefined). */
export function setJsonValue(cfg: ConfigText, path: (string | number)[], value: unknown): string {
  parseConfig(cfg); // refuse to edit a file we cannot parse
  const base = cfg.exists && cfg.text.trim() !== '' ? cfg.text : '{}\n';
  const edits = modify(base, path, value, { formattingOptions: detectFormatting(base) });
  let next = applyEdits(base, edits);
  if (!next.endsWith('\n')) next += detectFormatting(base).eol ?? '\n';
  return next;
}

export function writeConfig(path: string, text: string): void {
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : 0o600;
  writeFileAtomic(path, text, mode);
}
