/**
 * Cardinality guard for the `tool` metric label: only names the upstream itself returned in a
 * `tools/list` response are kept; any other name (a client's typo, a flood of random names, a tool
 * nobody listed yet) collapses to `other`. The set is the union of every observed list page, bounded.
 */

/** Label value used for every tool name the guard does not know. */
export const OTHER_TOOL = 'other';

export class KnownTools {
  readonly #names = new Set<string>();
  readonly #max: number;

  /** @param max Largest number of distinct tool names kept (default 1000). Later names become `other`. */
  constructor(max = 1000) {
    if (!Number.isInteger(max) || max < 0)
      throw new TypeError('"maxToolNames" must be a non-negative integer');
    this.#max = max;
  }

  /** Record the tool names of one `tools/list` result (`{ tools: [{ name }] }`); anything else is ignored. */
  observeList(result: unknown): void {
    if (typeof result !== 'object' || result === null) return;
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return;
    for (const tool of tools) {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name.length === 0 || name.length > 128) continue;
      if (this.#names.size >= this.#max) return;
      this.#names.add(name);
    }
  }

  /** The label for `name`: the name itself when the upstream listed it, else `other`. */
  label(name: string | undefined): string {
    if (name === undefined) return '';
    return this.#names.has(name) ? name : OTHER_TOOL;
  }

  get size(): number {
    return this.#names.size;
  }
}
