import type { z } from 'zod';

/** One line listing every zod issue with its dotted path, e.g. `spec.port: too big`. */
export function describeZodIssues(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      return `${path}: ${issue.message}${keys}`;
    })
    .join('; ');
}
