import { z } from 'zod';
import { runConfigSchema } from './schema.js';

/** The published JSON Schema of a RunConfig file (as written, i.e. with defaults optional). */
export function runConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(runConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://bastion-mcp.dev/schemas/runconfig-v1.json',
    title: 'Bastion RunConfig',
    description:
      'Configuration of one Bastion proxy (PRODUCT.md §4). Secrets are referenced by environment variable or file, never inlined.',
  };
}
