/**
 * Every UplinkAdapter against the one contract (tests/support/uplink-adapter-contract.ts), each
 * with a real receiver on an ephemeral port (tests/support/uplink-receiver.ts): the HTTP adapter
 * and a node:http platform, the MQTT bridge and an in-process aedes broker (never Mosquitto's
 * 1883), the GB/T 26875.3 client and a TCP monitoring centre.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeAppData } from '../../services/protocols/gb26875/index.js';
import { createLogger } from '../../services/shared/logger.js';
import { SystemClock } from '../../services/shared/clock.js';
import { Gb26875UplinkClient } from '../../services/uplink/adapters/gb26875-adapter.js';
import { appDataForItem } from '../../services/uplink/adapters/gb26875-mapping.js';
import { HttpUplinkAdapter } from '../../services/uplink/adapters/http-adapter.js';
import { MqttUplinkAdapter } from '../../services/uplink/adapters/mqtt-adapter.js';
import { mappingSends, parseMapping } from '../../services/uplink/mapping.js';
import { UPLINK_FORMAT, UPLINK_ITEM_TYPES, UplinkError } from '../../services/uplink/model.js';
import { buildingItem, readingItem, uplinkAdapterContract, type ReceiverAnswer } from '../support/uplink-adapter-contract.js';
import { MonitoringCentreReceiver, MqttUplinkBroker, UplinkReceiver, type ReceiverMode } from '../support/uplink-receiver.js';

const silent = createLogger('silent');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

uplinkAdapterContract('http', async () => {
  const platform = new UplinkReceiver();
  const url = await platform.start();
  // a platform that takes alerts, device events and readings, not the building registry
  const mapping = parseMapping({ format: UPLINK_FORMAT, types: UPLINK_ITEM_TYPES.filter((t) => !t.startsWith('building.')) });
  const adapter = new HttpUplinkAdapter({ url, timeoutMs: 1000, mapping, clock: new SystemClock() });
  const modes: Record<ReceiverAnswer, ReceiverMode> = { accept: 'ok', silent: 'hang', busy: 'fail', refuse: 'reject' };
  return {
    adapter,
    receiver: {
      accepted: () => platform.items().map((i) => i.id as string),
      expected: (items) => items.filter((i) => mappingSends(mapping, i.type)).map((i) => i.id),
      contacts: () => platform.requests,
      answer: (a) => {
        platform.mode = modes[a];
        return true;
      },
      stop: () => platform.close(),
      restart: async () => void (await platform.start()),
      connections: () => platform.connections(),
      opened: () => platform.opened(),
    },
    unmapped: [buildingItem(1), buildingItem(2)],
    silentMs: 1000,
    cleanup: () => platform.close(),
  };
});

uplinkAdapterContract('mqtt', async () => {
  const broker = new MqttUplinkBroker();
  const url = await broker.start();
  const adapter = new MqttUplinkAdapter({ url, topic: 'ct/{type}/{buildingId}/{deviceId}', timeoutMs: 1000, log: silent, clientOptions: { reconnectPeriod: 200 } });
  return {
    adapter,
    receiver: {
      accepted: () => broker.published.map((m) => m.body.id as string),
      expected: (items) => items.map((i) => i.id),
      contacts: () => broker.publishes,
      answer: (a) => {
        if (a === 'busy' || a === 'refuse') return false; // MQTT 3.1.1 has no PUBACK error code
        broker.mode = a === 'accept' ? 'ok' : 'silent';
        return true;
      },
      stop: () => broker.close(),
      restart: async () => void (await broker.start()),
      connections: () => broker.connections(),
      opened: () => broker.opened(),
    },
    silentMs: 1000,
    cleanup: () => broker.close(),
  };
});

uplinkAdapterContract('gb26875', async () => {
  const centre = new MonitoringCentreReceiver();
  const port = await centre.start();
  const timeoutMs = 400;
  const retries = 1;
  const adapter = new Gb26875UplinkClient({
    host: '127.0.0.1',
    port,
    sourceAddress: 123456,
    destinationAddress: 654321,
    timeoutMs,
    retries,
    heartbeatMs: 60_000,
    clock: new SystemClock(),
    log: silent,
  });
  return {
    adapter,
    receiver: {
      accepted: () => centre.confirmed.map((f) => hex(f.appData)),
      expected: (items) => items.flatMap((i) => appDataForItem(i)).map((u) => hex(encodeAppData(u))),
      contacts: () => centre.dataFrames().length,
      answer: (a) => {
        if (a === 'busy') return false; // the centre confirms or denies; "later" is silence
        centre.mode = a === 'accept' ? 'confirm' : a === 'refuse' ? 'deny' : 'silent';
        return true;
      },
      stop: () => centre.close(),
      restart: async () => void (await centre.start()),
      connections: () => centre.connections(),
      opened: () => centre.opened(),
    },
    unmapped: [buildingItem(1), buildingItem(2)],
    // a new link's UITD status and then the item, each (1 + retries) attempts
    silentMs: 2 * (1 + retries) * timeoutMs,
    cleanup: () => centre.close(),
  };
});

// Beyond the contract, HTTP only: the adapter does not follow a redirect (its own connections, not
// fetch's); the batch waits (retryable) and the reason says where the platform points.
describe('HTTP adapter and a platform that redirects', () => {
  it('rejects, retryable, naming the Location', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(308, { location: 'https://platform.example/v2/ingest' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const adapter = new HttpUplinkAdapter({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, timeoutMs: 1000, clock: new SystemClock() });
    try {
      const err = await adapter.send([readingItem('ct-redirect', 1)]).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UplinkError);
      expect((err as UplinkError).retryable).toBe(true);
      expect((err as UplinkError).message).toContain('HTTP 308 to https://platform.example/v2/ingest');
    } finally {
      adapter.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
