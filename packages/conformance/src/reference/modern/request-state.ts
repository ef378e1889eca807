/**
 * `requestState` of the MRTR flow: the server's continuation, round-tripped by the client. The client
 * is untrusted, so the state is HMAC-SHA256 signed with a per-process key, bound to the method, the
 * tool/prompt name and an expiry (SEP-2322: treat it as attacker-controlled).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isObject } from './protocol.js';

export interface StatePayload {
  /** `tools/call` or `prompts/get`. */
  method: string;
  /** Tool or prompt name the state continues. */
  name: string;
  /** Round the client answers (1 = answers to the first `inputRequests`). */
  round: number;
  /** Answers collected in earlier rounds (multi-round tools). */
  carried?: Record<string, unknown> | undefined;
  /** Expiry, epoch ms. */
  exp: number;
}

export interface StateCodec {
  seal(payload: Omit<StatePayload, 'exp'>): string;
  /** The payload, or `undefined` when the signature, shape or expiry is wrong. */
  open(state: string): StatePayload | undefined;
}

export function createStateCodec(ttlMs: number, key: Buffer = randomBytes(32)): StateCodec {
  const sign = (body: string) => createHmac('sha256', key).update(body).digest('base64url');
  return {
    seal(payload) {
      const body = Buffer.from(JSON.stringify({ ...payload, exp: Date.now() + ttlMs })).toString('base64url');
      return `${body}.${sign(body)}`;
    },
    open(state) {
      const dot = state.indexOf('.');
      if (dot <= 0) return undefined;
      const body = state.slice(0, dot);
      const mac = Buffer.from(state.slice(dot + 1));
      const expected = Buffer.from(sign(body));
      if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (
        !isObject(payload) ||
        typeof payload.method !== 'string' ||
        typeof payload.name !== 'string' ||
        typeof payload.round !== 'number' ||
        typeof payload.exp !== 'number' ||
        payload.exp < Date.now()
      ) {
        return undefined;
      }
      return payload as unknown as StatePayload;
    },
  };
}
