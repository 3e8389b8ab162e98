/**
 * The platform uplink's adapters, from configuration (issue #6): one durable lane per configured
 * adapter — batched HTTP POSTs, QoS 1 MQTT publishes, or a GB/T 26875.3 monitoring centre.
 */
import type { Logger } from 'pino';
import type { Config } from '../services/config/config.js';
import type { Clock } from '../services/shared/clock.js';
import { Gb26875UplinkClient } from '../services/uplink/adapters/gb26875-adapter.js';
import { HttpUplinkAdapter } from '../services/uplink/adapters/http-adapter.js';
import { MqttUplinkAdapter } from '../services/uplink/adapters/mqtt-adapter.js';
import { loadMapping } from '../services/uplink/mapping.js';
import type { UplinkAdapter } from '../services/uplink/model.js';
import { loadStatusMap } from '../services/uplink/adapters/gb26875-status-map.js';
import type { FacilityDevice } from '../services/uplink/adapters/gb26875-facility-reads.js';

/** `version`: Firewatch's own (package.json), what a GB/T 26875.3 centre reads as our software version and configuration. */
export function uplinkAdapters(
  config: Config['uplink'],
  clock: Clock,
  log: Logger,
  version = '0.0.0',
  hooks: { onDutyCheck?: (check: { serial: number; at: number }) => void; facility?: () => Iterable<FacilityDevice> } = {},
): UplinkAdapter[] {
  const adapters: UplinkAdapter[] = [];
  if (config.http) {
    const h = config.http;
    adapters.push(
      new HttpUplinkAdapter({
        url: h.url,
        timeoutMs: h.timeoutMs,
        clock,
        ...(h.token !== undefined ? { token: h.token } : {}),
        ...(h.hmacSecret !== undefined ? { hmacSecret: h.hmacSecret } : {}),
        ...(h.mappingFile !== undefined ? { mapping: loadMapping(h.mappingFile) } : {}),
      }),
    );
  }
  if (config.mqtt) {
    adapters.push(new MqttUplinkAdapter({ ...config.mqtt, timeoutMs: 10_000, log: log.child({ module: 'uplink-mqtt' }) }));
  }
  if (config.gb26875) {
    const { statusMap, dutyCheckS: _window, ...g } = config.gb26875;
    adapters.push(
      new Gb26875UplinkClient({
        ...g,
        heartbeatMs: g.heartbeatS * 1000,
        clock,
        // what the centre reads of us (types 25 and 26): the version's major and minor, and who we are
        softwareVersion: { major: Number(version.split('.')[0]) || 0, minor: Number(version.split('.')[1]) || 0 },
        configText: `Firewatch ${version} UITD ${g.sourceAddress}`,
        ...(hooks.onDutyCheck ? { onDutyCheck: hooks.onDutyCheck } : {}),
        ...(hooks.facility ? { facility: hooks.facility } : {}),
        log: log.child({ module: 'uplink-gb26875' }),
        ...(statusMap !== undefined ? { statusMap: loadStatusMap(statusMap) } : {}),
      }),
    );
  }
  return adapters;
}
