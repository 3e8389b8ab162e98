/**
 * The device topic grammar (pure). A device may publish only to
 *   fire/v1/{deviceId}/telemetry   readings
 *   fire/v1/{deviceId}/event       its own alarm / fault flags
 * and subscribe only under fire/v1/{deviceId}/config/ (settings pushed to it).
 */
import type { Channel } from '../../services/telemetry/telemetry.js';
import { configTopicFor, eventTopicFor, telemetryTopicFor } from '../../services/telemetry/topics.js';

/** The channel a device may publish on `topic`, or undefined when the topic is not its own. */
export function publishChannel(deviceId: string, topic: string): Channel | undefined {
  if (topic === telemetryTopicFor(deviceId)) return 'telemetry';
  if (topic === eventTopicFor(deviceId)) return 'event';
  return undefined;
}

/** Whether `deviceId` may subscribe to `filter`: only its own config subtree. */
export function maySubscribe(deviceId: string, filter: string): boolean {
  const base = configTopicFor(deviceId);
  return filter === base || filter === `${base}/#` || (filter.startsWith(`${base}/`) && !filter.slice(base.length + 1).includes('#'));
}
