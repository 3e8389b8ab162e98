/**
 * SUBSCRIBE: a device may subscribe only under its own config subtree. Anything else is refused
 * with SUBACK failure (0x80, MQTT 3.1.1 §3.9.3) and counted as topic_acl; the device stays connected.
 */
import type { Client, Subscription } from 'aedes';
import type { Pipeline } from '../../../services/pipeline/pipeline.js';
import { maySubscribe } from '../topics.js';

export function createAuthorizeSubscribe(deps: { pipeline: Pipeline; identities: WeakMap<Client, string> }) {
  return function authorizeSubscribe(
    client: Client,
    sub: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const deviceId = deps.identities.get(client);
    if (deviceId && maySubscribe(deviceId, sub.topic)) return callback(null, sub);
    if (deviceId) deps.pipeline.rejectOutside(deviceId, 'topic_acl', `subscribe to ${sub.topic} is not allowed`);
    callback(null, null);
  };
}
