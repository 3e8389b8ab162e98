/**
 * PUBLISH: the topic ACL, then the pipeline. Durability before the PUBACK is reached here:
 * aedes 1.2 writes the QoS 1 PUBACK before the `published` hook runs
 * (lib/handlers/publish.js: authorizePublish → write(PubAck) → broker.publish), so we call back
 * only after the pipeline made the reading durable, or rejected and counted it.
 *
 * Errors passed to the callback close the client's connection (aedes), so only an ACL breach,
 * a `$SYS` publish or a storage failure (the message must then not be acknowledged; the device
 * re-sends it after reconnecting) produce one. Malformed payloads are values, never errors.
 */
import type { Client, PublishPacket } from 'aedes';
import type { Pipeline } from '../../../services/pipeline/pipeline.js';
import { presence, publishChannel } from '../topics.js';

export interface AuthorizePublishDeps {
  pipeline: Pipeline;
  identities: WeakMap<Client, string>;
  /** a device's presence message (its last will when it drops off) */
  onPresence?: (deviceId: string, online: boolean) => void;
  /** a device set RETAIN: stripped (counted), never stored by the broker */
  onRetainStripped?: (deviceId: string) => void;
}

export class TopicAclError extends Error {
  readonly code = 'topic_acl';
}

export function createAuthorizePublish(deps: AuthorizePublishDeps) {
  return function authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    if (!client) return callback(null); // broker-internal publish (e.g. a will being re-delivered)
    const deviceId = deps.identities.get(client);
    if (!deviceId) return callback(new TopicAclError('unauthenticated client'));
    if (packet.retain) {
      // a device's message is a reading, not the topic's standing state: the broker keeps nothing
      packet.retain = false;
      deps.onRetainStripped?.(deviceId);
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const online = presence(deviceId, packet.topic, payload);
    if (online !== undefined) {
      if (online === null) deps.pipeline.rejectOutside(deviceId, 'schema', 'status payload must be "online", "offline" or {"online": boolean}');
      else deps.onPresence?.(deviceId, online);
      return callback(null);
    }
    const channel = publishChannel(deviceId, packet.topic);
    if (!channel) {
      deps.pipeline.rejectOutside(deviceId, 'topic_acl', `publish to ${packet.topic} is not allowed`);
      return callback(new TopicAclError(`device ${deviceId} may not publish to ${packet.topic}`));
    }
    deps.pipeline.ingest({ deviceId, channel, payload }).then(
      () => {
        corkUntilNextTick(client);
        callback(null);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  };
}

/**
 * A committed batch of the log settles many appends in one turn, and aedes writes each PUBACK on
 * its own (a writev per 4-byte packet was 8.6 % of the service's time under load). Corking the
 * client's socket until the turn's callbacks have run sends its PUBACKs together.
 */
const corked = new WeakSet<object>();
function corkUntilNextTick(client: Client): void {
  const conn = (client as unknown as { conn?: { cork?: () => void; uncork?: () => void } }).conn;
  if (!conn?.cork || !conn.uncork || corked.has(conn)) return;
  corked.add(conn);
  conn.cork();
  process.nextTick(() => {
    corked.delete(conn);
    conn.uncork!();
  });
}
