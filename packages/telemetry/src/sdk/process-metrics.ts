/**
 * A small process-metrics collector (memory, CPU, event-loop delay, uptime) as observable
 * instruments, evaluated only when a reader collects.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import { MetricName } from '../names.js';

export interface ProcessMetrics {
  stop(): void;
}

export function startProcessMetrics(meter: Meter): ProcessMetrics {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const rss = meter.createObservableGauge(MetricName.ProcessRss, {
    description: 'Resident set size of the process',
    unit: 'By',
  });
  const heap = meter.createObservableGauge(MetricName.HeapUsed, {
    description: 'V8 heap in use',
    unit: 'By',
  });
  const cpu = meter.createObservableCounter(MetricName.ProcessCpu, {
    description: 'CPU time used by the process (user + system)',
    unit: 's',
  });
  const loop = meter.createObservableGauge(MetricName.EventLoopDelay, {
    description: 'Event-loop delay since the previous collection, by quantile',
    unit: 's',
  });
  const uptime = meter.createObservableGauge(MetricName.Uptime, { description: 'Process uptime', unit: 's' });
  const observe = (result: import('@opentelemetry/api').BatchObservableResult): void => {
    const mem = process.memoryUsage();
    result.observe(rss, mem.rss);
    result.observe(heap, mem.heapUsed);
    const usage = process.cpuUsage();
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(uptime, process.uptime());
    if (delay.count > 0) {
      result.observe(loop, delay.percentile(50) / 1e9, { quantile: '0.5' });
      result.observe(loop, delay.percentile(99) / 1e9, { quantile: '0.99' });
      result.observe(loop, delay.max / 1e9, { quantile: 'max' });
      delay.reset();
    }
  };
  meter.addBatchObservableCallback(observe, [rss, heap, cpu, loop, uptime]);
  return {
    stop() {
      meter.removeBatchObservableCallback(observe, [rss, heap, cpu, loop, uptime]);
      delay.disable();
    },
  };
}
