/** What /readyz checks: intake, the reading log, storage failures, the processors, the store and the forwarder. */
import type { BrokerAddresses, MqttBroker } from '../gateway/mqtt/broker.js';
import type { ReadinessCheck } from '../services/api/routes/health.js';
import type { LogProcessors } from '../services/processors/log-processors.js';
import type { StoreForwarder } from '../services/processors/store-forwarder.js';
import type { OutageReporter } from '../services/shared/outage.js';
import type { ReadingStore } from '../services/storage/reading-store.js';
import type { ServiceReadingLog } from './storage.js';

export interface ReadinessDeps {
  broker: MqttBroker;
  mqttPorts: BrokerAddresses;
  readingLog: ServiceReadingLog;
  outages: OutageReporter;
  processors: LogProcessors;
  readingStore: ReadingStore;
  forwarder: StoreForwarder | undefined;
}

export function readinessChecks({ broker, mqttPorts, readingLog, outages, processors, readingStore, forwarder }: ReadinessDeps): ReadinessCheck[] {
  return [
    { name: 'broker', check: async () => ({ ready: true, detail: { connections: broker.connectedCount(), ports: mqttPorts } }) },
    {
      name: 'log',
      check: async () => {
        const h = readingLog.health();
        return {
          ready: h.ok,
          detail: {
            log: readingLog.name,
            ...(h.reason !== undefined ? { reason: h.reason } : {}),
            ...(h.failingSince !== undefined ? { failingSince: new Date(h.failingSince).toISOString() } : {}),
          },
        };
      },
    },
    {
      name: 'storage',
      check: async () => {
        const s = outages.status();
        return { ready: s.ok, detail: s.ok ? {} : { failing: s.failing } };
      },
    },
    {
      name: 'processors',
      check: async () => ({ ready: !outages.isFailing('processors'), detail: { position: processors.position(), lag: processors.lag() } }),
    },
    {
      name: 'store',
      check: async () => {
        await readingStore.ping();
        return { ready: true, detail: { store: readingStore.name } };
      },
    },
    ...(forwarder
      ? [
          {
            name: 'sink',
            check: async () => {
              const s = forwarder.status();
              return {
                ready: s.ready,
                detail: { sink: s.name, backlog: s.backlog, backlogAgeS: s.backlogAgeS, ...(s.lastError ? { lastError: s.lastError } : {}) },
              };
            },
          },
        ]
      : []),
  ];
}
