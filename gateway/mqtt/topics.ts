/**
 * The device topic grammar (pure). A device may publish only to
 *   fire/v1/{deviceId}/telemetry   readings
 *   fire/v1/{deviceId}/event       its own alarm / fault flags
 * and subscribe only under fire/v1/{deviceId}/config/ (settings pushed to it).
 */
import type { Channel } from '../../services/telemetry/telemetry.js';
import { configTopicFor, eventTopicFor, statusTopicFor, telemetryTopicFor } from '../../services/telemetry/topics.js';

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

/**
 * A presence message on fire/v1/{deviceId}/status (typically the device's MQTT last will):
 * `offline` / `{"online":false}` or `online` / `{"online":true}`; undefined when not a status
 * topic of this device, null when the payload is not understood.
 */
export function presence(deviceId: string, topic: string, payload: Buffer): boolean | null | undefined {
  if (topic !== statusTopicFor(deviceId)) return undefined;
  const text = payload.toString('utf8').trim();
  if (text === 'offline') return false;
  if (text === 'online') return true;
  try {
    const v = JSON.parse(text) as { online?: unknown };
    return typeof v.online === 'boolean' ? v.online : null;
  } catch {
    return null;
  }
}
