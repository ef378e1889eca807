/**
 * Run a callback once a response body has been fully delivered (or abandoned), without buffering it:
 * `sse` events are relayed one by one through a thin async generator, `stream` bodies are watched for
 * `close`, `json`/`empty` bodies are done immediately.
 */
import type { ProxyResponse, SseEvent } from '@bastion-mcp/proxy-core';

async function* relay(
  events: AsyncIterable<SseEvent>,
  done: (error: unknown) => void,
): AsyncGenerator<SseEvent> {
  let error: unknown;
  try {
    for await (const event of events) yield event;
  } catch (err) {
    error = err;
    throw err;
  } finally {
    done(error);
  }
}

export function onBodyDone(res: ProxyResponse, done: (error: unknown) => void): ProxyResponse {
  const body = res.body;
  if (body.type === 'sse') return { ...res, body: { type: 'sse', events: relay(body.events, done) } };
  if (body.type === 'stream') {
    const stream = body.stream;
    if (stream.destroyed || stream.readableEnded) {
      done(stream.errored ?? undefined);
    } else {
      let failure: unknown;
      const onError = (err: unknown): void => {
        failure = err;
      };
      stream.once('error', onError);
      // The error listener goes at close (streams emit 'error' before 'close', never after): a finished
      // stream can outlive its request for a while, and a listener left on it would keep the request's
      // state reachable across young GCs, i.e. promote every request to the old generation.
      stream.once('close', () => {
        stream.off('error', onError);
        done(failure ?? stream.errored ?? undefined);
      });
    }
    return res;
  }
  done(undefined);
  return res;
}
