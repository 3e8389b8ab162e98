/**
 * Every minute (and at start): devices whose COMMISSIONING_MAX_H passed are put in service for
 * good (persisted, so a larger bound configured later does not undo it), and their open
 * commissioning alerts become the duty room's (issue #17 item 6). The decision itself is exact at
 * any moment (DeviceRegistry.isCommissioning, commissioning.ts); this only writes it down.
 */
import type { Logger } from 'pino';
import { repeat, type Clock, type TimerHandle } from '../shared/clock.js';
import type { OutageReporter } from '../shared/outage.js';
import type { DeviceRegistry } from './registry.js';

const MINUTE = 60_000;

export function startCommissioningScan(clock: Clock, log: Logger, registry: DeviceRegistry, outages: OutageReporter): TimerHandle {
  return repeat(clock, MINUTE, () => {
    try {
      for (const device of registry.settleCommissioning()) {
        log.info({ deviceId: device.id, inServiceAt: device.inServiceAt }, 'device in service: its commissioning bound passed');
      }
      outages.ok('commissioning');
    } catch (err) {
      // a failed write is retried next minute; counted and on /readyz like every storage failure
      outages.failed('commissioning', err);
    }
  });
}
