import { describe, expect, it } from '@jest/globals';
import { WorkQueue } from '../../src/controller/workqueue.js';
import { ReferenceIndex } from '../../src/controller/ref-index.js';
import {
  computeStatus,
  deploymentAvailability,
  statusEqual,
  changedConditions,
} from '../../src/controller/status.js';
import { mergeOverrides } from '../../src/desired/merge.js';
import { remoteUrlRefusal } from '../../src/desired/remote-url.js';
import type { DesiredState } from '../../src/desired/desired-state.js';
import { OperatorMetrics } from '../../src/util/metrics.js';
import { LeaderElector } from '../../src/controller/leader.js';

describe('WorkQueue', () => {
  it('deduplicates keys and never hands one key to two workers', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    q.add('a'); // while processing: marked dirty, not queued twice
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
    q.done('a');
    expect(await q.get()).toBe('a');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  it('backs off exponentially per key and forgets after success', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    expect([
      q.addRateLimited('k'),
      q.addRateLimited('k'),
      q.addRateLimited('k'),
      q.addRateLimited('k'),
    ]).toEqual([10, 20, 40, 50]);
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(10);
    q.shutDown();
  });

  it('validates its options', () => {
    expect(() => new WorkQueue({ baseDelayMs: 0 })).toThrow(/baseDelayMs/);
    expect(() => new WorkQueue({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs/);
  });
});

describe('ReferenceIndex', () => {
  it('maps referenced objects back to proxies and forgets replaced references', () => {
    const idx = new ReferenceIndex();
    idx.set('ns/a', 'ns', [
      { kind: 'Secret', name: 's' },
      { kind: 'MCPToolConfig', name: 't' },
    ]);
    idx.set('ns/b', 'ns', [{ kind: 'Secret', name: 's' }]);
    expect(idx.proxiesReferencing('Secret', 'ns', 's').sort()).toEqual(['ns/a', 'ns/b']);
    expect(idx.proxiesReferencing('Secret', 'other', 's')).toEqual([]);
    idx.set('ns/a', 'ns', [{ kind: 'MCPToolConfig', name: 't' }]);
    expect(idx.proxiesReferencing('Secret', 'ns', 's')).toEqual(['ns/b']);
    idx.remove('ns/a');
    expect(idx.proxiesReferencing('MCPToolConfig', 'ns', 't')).toEqual([]);
  });
});

describe('status', () => {
  const ok = { status: 'True', reason: 'Ok', message: 'ok' } as const;
  const desired: DesiredState = {
    url: 'http://u',
    references: [],
    configHash: 'h',
    conditions: { ConfigValid: ok, AuthConfigured: ok, ReferencesResolved: ok },
  };
  const available = {
    metadata: { generation: 2 },
    status: {
      observedGeneration: 2,
      replicas: 1,
      availableReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
    },
  };

  it('DeploymentAvailable follows the Deployment’s own status and generation', () => {
    expect(deploymentAvailability(undefined).reason).toBe('DeploymentNotFound');
    expect(deploymentAvailability(available).status).toBe('True');
    expect(deploymentAvailability({ ...available, metadata: { generation: 3 } }).reason).toBe(
      'RolloutPending',
    );
    expect(
      deploymentAvailability({
        ...available,
        status: {
          ...available.status,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        },
      }).reason,
    ).toBe('ProgressDeadlineExceeded');
    expect(deploymentAvailability(available, 'rejected').reason).toBe('ApplyFailed');
  });

  it('derives phase and Ready from the other conditions and keeps transition times', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const s1 = computeStatus(1, undefined, desired, available, t0);
    expect(s1.phase).toBe('Ready');
    expect(s1.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      observedGeneration: 1,
    });
    const s2 = computeStatus(1, s1, desired, available, new Date('2026-01-02T00:00:00Z'));
    expect(statusEqual(s1, s2)).toBe(true);
    expect(s2.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const bad = {
      ...desired,
      conditions: {
        ...desired.conditions,
        ReferencesResolved: { status: 'False', reason: 'ReferenceNotFound', message: 'x' },
      },
    } as DesiredState;
    const s3 = computeStatus(2, s2, bad, available, new Date('2026-01-03T00:00:00Z'));
    expect(s3.phase).toBe('Failed');
    expect(s3.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReferencesUnresolved',
    });
    expect(
      changedConditions(s2, s3)
        .map((c) => c.type)
        .sort(),
    ).toEqual(['ReferencesResolved', 'Ready'].sort());
    expect(computeStatus(1, undefined, desired, undefined, t0).phase).toBe('Pending');
  });
});

describe('mergeOverrides', () => {
  it('merges objects, merges named lists by name, replaces other lists, deletes on null', () => {
    const base = {
      a: { b: 1, c: 2 },
      list: [
        { name: 'x', v: 1 },
        { name: 'y', v: 2 },
      ],
      plain: [1, 2],
      gone: 1,
    };
    expect(
      mergeOverrides(base, {
        a: { c: 3 },
        list: [
          { name: 'y', v: 9 },
          { name: 'z', v: 0 },
        ],
        plain: [3],
        gone: null,
      }),
    ).toEqual({
      a: { b: 1, c: 3 },
      list: [
        { name: 'x', v: 1 },
        { name: 'y', v: 9 },
        { name: 'z', v: 0 },
      ],
      plain: [3],
    });
  });
});

describe('remoteUrlRefusal', () => {
  const strict = { allowPrivateEndpoint: false, allowLoopback: false };
  const lax = { allowPrivateEndpoint: true, allowLoopback: false };
  it.each([
    ['https://mcp.example.com/mcp', strict, undefined],
    ['https://user:pw@mcp.example.com/', strict, /credentials/],
    ['https://127.0.0.1/', lax, /loopback/],
    ['https://[::1]/', lax, /loopback/],
    ['https://localhost:8443/', lax, /loopback/],
    ['https://169.254.169.254/', lax, /link-local/],
    ['https://metadata.google.internal/', lax, /metadata/],
    ['https://0.0.0.0/', lax, /unspecified/],
    ['https://10.0.0.1/', strict, /allowPrivateEndpoint/],
    ['https://10.0.0.1/', lax, undefined],
    ['https://[fd00::1]/', strict, /allowPrivateEndpoint/],
    ['https://[::ffff:192.168.1.1]/', strict, /allowPrivateEndpoint/],
    ['https://kubernetes.default.svc/', strict, /allowPrivateEndpoint/],
    ['https://crm/', strict, /allowPrivateEndpoint/],
  ])('%s', (url, policy, expected) => {
    const r = remoteUrlRefusal(url, policy);
    if (expected) expect(r).toMatch(expected);
    else expect(r).toBeUndefined();
  });
});

describe('metrics', () => {
  it('renders the Prometheus text format', () => {
    const m = new OperatorMetrics();
    m.reconciles.inc({ result: 'success' });
    m.reconcileSeconds.observe(0.02);
    m.leader.set(1);
    const text = m.render();
    expect(text).toContain('# TYPE bastion_operator_reconcile_total counter');
    expect(text).toContain('bastion_operator_reconcile_total{result="success"} 1');
    expect(text).toContain('bastion_operator_reconcile_duration_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('bastion_operator_reconcile_duration_seconds_count 1');
    expect(text).toContain('bastion_operator_leader 1');
  });
});

describe('LeaderElector options', () => {
  const base = {
    client: {} as never,
    namespace: 'n',
    name: 'l',
    identity: 'me',
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
    log: { info() {}, warn() {} },
  };
  it('refuses inconsistent durations', () => {
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 1000 })).toThrow(
      /leaseDurationMs/,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 1000, retryPeriodMs: 1000 })).toThrow(
      /renewDeadlineMs/,
    );
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
  });
});
