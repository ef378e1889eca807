import { describe, expect, it } from '@jest/globals';
import { delegationOf } from '../src/delegation.js';

describe('delegationOf', () => {
  it('is undefined without an act claim', () => {
    expect(delegationOf({ sub: 'u1' }, 5)).toBeUndefined();
    expect(delegationOf(undefined, 5)).toBeUndefined();
  });

  it('lists actors outermost first with sub, iss and client_id', () => {
    const claims = {
      sub: 'u1',
      act: { sub: 'agent1', iss: 'https://idp.test', act: { sub: 'agent0', client_id: 'c0' } },
    };
    expect(delegationOf(claims, 5)).toEqual({
      chain: [
        { sub: 'agent1', iss: 'https://idp.test' },
        { sub: 'agent0', clientId: 'c0' },
      ],
      truncated: false,
      malformed: false,
    });
  });

  it('stops at the configured depth and says so', () => {
    let act: Record<string, unknown> = { sub: 'a9' };
    for (let i = 8; i >= 0; i--) act = { sub: `a${i}`, act };
    const d = delegationOf({ act }, 5);
    expect(d?.chain.map((a) => a.sub)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(d?.truncated).toBe(true);
  });

  it('flags a non-object act as malformed, keeping what was read before it', () => {
    expect(delegationOf({ act: 'agent' }, 5)).toEqual({ chain: [], truncated: false, malformed: true });
    expect(delegationOf({ act: { sub: 'a', act: [1] } }, 5)).toEqual({
      chain: [{ sub: 'a' }],
      truncated: false,
      malformed: true,
    });
  });
});
