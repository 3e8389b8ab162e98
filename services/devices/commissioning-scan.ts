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
  // one scan at a time; a tick during a scan runs one more scan after it (none is lost)
  let running = false;
  let again = false;
  const scan = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    registry.settleCommissioning().then(
      (settled) => {
        for (const device of settled) log.info({ deviceId: device.id, inServiceAt: device.inServiceAt }, 'device in service: its commissioning bound passed');
        outages.ok('commissioning');
      },
      (err: unknown) => {
        // a failed write is retried next minute; counted and on /readyz like every storage failure
        outages.failed('commissioning', err);
      },
    ).finally(() => {
      running = false;
      if (again) {
        again = false;
        scan();
      }
    });
  };
  return repeat(clock, MINUTE, scan);
}
