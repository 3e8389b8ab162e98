/**
 * "Durability before PUBACK holds on PostgreSQL exactly as on SQLite: PostgreSQL down → no PUBACK,
 * /readyz false, recovery without restart" (issue #10), through the wire. The service reaches the
 * machine's real PostgreSQL through a TCP relay that the test can cut (every connection dropped,
 * new ones refused) and restore, as a network outage or a database restart looks to the service.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { connectDevice, endClient, provisionDevice, startService, waitFor, type TestService } from '../support/service.js';

/** A relay to PostgreSQL on 127.0.0.1:5432 that can be cut and restored on the same port. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  close(): Promise<void> {
    return this.cut();
  }
}

const running: TestService[] = [];
const relays: Relay[] = [];
const databases: FreshDatabase[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const r of relays.splice(0)) await r.close();
  for (const d of databases.splice(0)) await d.drop();
});

async function count(url: string, deviceId: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM readings WHERE device_id = $1', [deviceId])).rows[0]!.n);
  } finally {
    await c.end();
  }
}

describe('PostgreSQL down', () => {
  it('gives no PUBACK and /readyz false while it is down; the device resends and is stored once, and /readyz is ready again, without a restart', async () => {
    const db = await freshDatabase();
    databases.push(db);
    const relay = new Relay();
    relays.push(relay);
    await relay.start();
    const viaRelay = new URL(db.url);
    viaRelay.port = String(relay.port);
    const svc = await startService({ DATABASE_URL: viaRelay.toString(), LOG_APPEND_TIMEOUT_MS: '1500', LOG_LEVEL: process.env.DEBUG_OUTAGE ? 'info' : 'silent' });
    running.push(svc);
    const p = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'hydrant_top', reportIntervalS: 3600 });
    // a device that keeps trying: while the database is down its reconnects are refused too (the
    // credential check reads the database: CONNACK 3, server unavailable), so it retries those as well
    const c = await connectDevice(svc.mqttUrl, p, { reconnectPeriod: 200, reconnectOnConnackError: true });
    c.removeAllListeners('error'); // connectDevice's listener ends the client at the first error
    c.on('error', () => undefined);
    const connacks: number[] = [];
    c.on('packetreceive', (pk) => {
      if (pk.cmd === 'connack') connacks.push((pk as { returnCode?: number }).returnCode ?? -1);
    });
    const topic = `fire/v1/${p.deviceId}/telemetry`;
    await c.publishAsync(topic, JSON.stringify({ seq: 1, pressureMpa: 0.35 }), { qos: 1 });
    expect(await count(db.url, p.deviceId)).toBe(1);

    await relay.cut();
    let acked = false;
    const pending = c.publishAsync(topic, JSON.stringify({ seq: 2, pressureMpa: 0.34 }), { qos: 1 }).then(() => (acked = true));
    pending.catch(() => undefined);
    // not acknowledged while the database is unreachable, and the service says so
    const notReady = await waitFor(async () => {
      const r = await svc.api.get('/readyz');
      return r.status === 503 ? r.body : undefined;
    }, '/readyz false');
    expect(notReady.ready).toBe(false);
    await new Promise((r) => setTimeout(r, 2000));
    expect(acked).toBe(false);
    // the API and the broker stay up
    expect((await svc.api.get('/healthz')).status).toBe(200);

    await relay.start(); // the same port: the service's pool connects again by itself
    await waitFor(async () => ((await svc.api.get('/readyz')).status === 200 ? true : undefined), '/readyz ready again', 20_000);
    await waitFor(() => (acked ? true : undefined), `the PUBACK after recovery (the device resent; CONNACKs ${connacks.join(',')})`, 20_000);
    expect(await count(db.url, p.deviceId)).toBe(2);
    // refused while down (3: server unavailable), accepted again after
    expect(connacks).toContain(3);
    expect(connacks[connacks.length - 1]).toBe(0);
    await endClient(c);
  });
});
