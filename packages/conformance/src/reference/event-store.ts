/** In-memory SSE event store so clients can resume a POST stream with `Last-Event-ID` (SEP-1699). */
import { randomUUID } from 'node:crypto';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Bounded: the oldest events are dropped past `maxEvents`. */
export function createEventStore(maxEvents = 1_000): EventStore {
  const events = new Map<string, { streamId: string; seq: number; message: JSONRPCMessage }>();
  let seq = 0;
  return {
    async storeEvent(streamId, message) {
      const eventId = `${streamId}::${String(++seq).padStart(12, '0')}_${randomUUID()}`;
      events.set(eventId, { streamId, seq, message });
      if (events.size > maxEvents) events.delete(events.keys().next().value as string);
      return eventId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const last = events.get(lastEventId);
      const streamId = last?.streamId ?? lastEventId.split('::')[0] ?? '';
      const after = last?.seq ?? 0;
      for (const [id, e] of events) {
        if (e.streamId === streamId && e.seq > after && Object.keys(e.message).length > 0)
          await send(id, e.message);
      }
      return streamId;
    },
  };
}
