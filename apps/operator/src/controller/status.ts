/**
 * MCPRemoteProxy status from the desired state and the Deployment's own status (never pod phases).
 * Conditions keep their lastTransitionTime while their status does not change; every condition
 * carries the generation it was computed for. Phase is derived from the conditions.
 */
import type { Condition, ProxyStatus } from '../api/schemas.js';
import type { DesiredState } from '../desired/desired-state.js';
import type { ConditionValue, KubeObject } from '../desired/types.js';

export const CONDITION_TYPES = [
  'Ready',
  'ConfigValid',
  'AuthConfigured',
  'ReferencesResolved',
  'DeploymentAvailable',
  'RemoteReachable',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

const NOT_READY_REASON = {
  ReferencesResolved: 'ReferencesUnresolved',
  ConfigValid: 'ConfigInvalid',
  AuthConfigured: 'AuthNotConfigured',
  DeploymentAvailable: 'DeploymentUnavailable',
} as const;

interface DeploymentStatusShape {
  observedGeneration?: number;
  replicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

/** DeploymentAvailable from the Deployment's Available condition and its observedGeneration. */
export function deploymentAvailability(
  deployment: KubeObject | undefined,
  applyError?: string,
): ConditionValue {
  if (applyError) return { status: 'False', reason: 'ApplyFailed', message: applyError };
  if (!deployment)
    return { status: 'False', reason: 'DeploymentNotFound', message: 'the Deployment does not exist yet' };
  const st = (deployment.status ?? {}) as DeploymentStatusShape;
  const generation = deployment.metadata?.generation ?? 0;
  if ((st.observedGeneration ?? 0) < generation)
    return {
      status: 'False',
      reason: 'RolloutPending',
      message: 'the Deployment controller has not observed the latest spec yet',
    };
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False')
    return {
      status: 'False',
      reason: progressing.reason ?? 'ProgressDeadlineExceeded',
      message: progressing.message ?? 'rollout stalled',
    };
  const available = st.conditions?.find((c) => c.type === 'Available');
  if (available?.status !== 'True')
    return {
      status: 'False',
      reason: available?.reason ?? 'MinimumReplicasUnavailable',
      message: available?.message ?? 'the Deployment has no available replicas yet',
    };
  return {
    status: 'True',
    reason: available.reason ?? 'MinimumReplicasAvailable',
    message: `${st.availableReplicas ?? 0} of ${st.replicas ?? 0} replicas available`,
  };
}

export function computeStatus(
  generation: number,
  previous: ProxyStatus | undefined,
  desired: DesiredState,
  deployment: KubeObject | undefined,
  now: Date,
  applyError?: string,
): ProxyStatus {
  const values: Record<ConditionType, ConditionValue> = {
    Ready: { status: 'Unknown', reason: 'Pending', message: '' },
    ConfigValid: applyError
      ? { status: 'False', reason: 'ApplyRejected', message: applyError }
      : desired.conditions.ConfigValid,
    AuthConfigured: desired.conditions.AuthConfigured,
    ReferencesResolved: desired.conditions.ReferencesResolved,
    DeploymentAvailable: deploymentAvailability(deployment, applyError),
    RemoteReachable: {
      status: 'Unknown',
      reason: 'NotProbed',
      message: 'the operator does not probe remotes; the proxy’s /ready endpoint reports reachability',
    },
  };
  const blocking = (
    ['ReferencesResolved', 'ConfigValid', 'AuthConfigured', 'DeploymentAvailable'] as const
  ).find((t) => values[t].status !== 'True');
  values.Ready = blocking
    ? {
        status: 'False',
        reason: NOT_READY_REASON[blocking],
        message: `${blocking}: ${values[blocking].message}`,
      }
    : {
        status: 'True',
        reason: 'ProxyReady',
        message: 'the proxy is configured and its Deployment is available',
      };
  const failed = (['ConfigValid', 'ReferencesResolved', 'AuthConfigured'] as const).some(
    (t) => values[t].status === 'False',
  );
  const phase: ProxyStatus['phase'] =
    values.Ready.status === 'True' ? 'Ready' : failed ? 'Failed' : 'Pending';
  const conditions: Condition[] = CONDITION_TYPES.map((type) => {
    const v = values[type];
    const old = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status: v.status,
      reason: v.reason,
      message: v.message.slice(0, 32768),
      observedGeneration: generation,
      lastTransitionTime:
        old && old.status === v.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  });
  const status: ProxyStatus = { phase, url: desired.url, observedGeneration: generation, conditions };
  const hash = desired.configHash ?? previous?.configHash;
  if (hash) status.configHash = hash;
  return status;
}

/** Equal apart from lastTransitionTime of conditions whose status did not change. */
export function statusEqual(a: ProxyStatus | undefined, b: ProxyStatus): boolean {
  if (!a) return false;
  if (
    a.phase !== b.phase ||
    a.url !== b.url ||
    a.observedGeneration !== b.observedGeneration ||
    a.configHash !== b.configHash
  )
    return false;
  const ac = a.conditions ?? [];
  const bc = b.conditions ?? [];
  if (ac.length !== bc.length) return false;
  return bc.every((c) => {
    const o = ac.find((x) => x.type === c.type);
    return (
      !!o &&
      o.status === c.status &&
      o.reason === c.reason &&
      o.message === c.message &&
      o.observedGeneration === c.observedGeneration
    );
  });
}

/** Conditions whose status or reason changed (these get an Event). */
export function changedConditions(previous: ProxyStatus | undefined, next: ProxyStatus): Condition[] {
  return (next.conditions ?? []).filter((c) => {
    const o = previous?.conditions?.find((x) => x.type === c.type);
    return !o || o.status !== c.status || o.reason !== c.reason;
  });
}
