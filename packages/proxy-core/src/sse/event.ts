/** One Server-Sent Event, as defined by the WHATWG HTML "server-sent events" section. */
export interface SseEvent {
  /** `event:` field; absent means the default type `message`. */
  event?: string | undefined;
  /** `data:` lines joined with `\n`. */
  data: string;
  /** `id:` field (may be the empty string, which resets the last event id). */
  id?: string | undefined;
  /** `retry:` field in milliseconds. */
  retry?: number | undefined;
  /** Comment lines (`: ...`), kept so keep-alives pass through. An event may be comment-only. */
  comments?: string[] | undefined;
  /**
   * Whether the event carries `data:` lines. Only matters when `data` is `''`: a comment-only keep-alive
   * or a bare `id:`/`retry:` block has no data line, while a priming event (`id: 1` + empty `data:`) has one.
   * When omitted: `true` if `data !== ''` or the event has no other field, else `false`. The parser sets
   * it whenever `data` is `''`.
   */
  hasData?: boolean | undefined;
}
