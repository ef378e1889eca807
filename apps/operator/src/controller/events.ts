/** Kubernetes Events (core/v1) about MCPRemoteProxy objects. Failures are logged, never fatal. */
import { randomBytes } from 'node:crypto';
import type { ProxyObject } from '../desired/types.js';
import type { KubeClient } from '../kube/client.js';

export const EVENT_SOURCE = 'bastion-operator';

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly log: { warn(o: Record<string, unknown>, m: string): void },
  ) {}

  async record(
    proxy: ProxyObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { name, namespace, uid, resourceVersion } = proxy.metadata;
    try {
      await this.client.create('Event', namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: proxy.apiVersion,
          kind: proxy.kind,
          name,
          namespace,
          uid,
          resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: EVENT_SOURCE },
        reportingComponent: EVENT_SOURCE,
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, namespace, name, reason }, 'Failed to record event');
    }
  }
}
