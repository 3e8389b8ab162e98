/**
 * InfluxV2Store on the wire, against a real HTTP server that records what arrives and answers as
 * InfluxDB 2.x would (no v2 server on Debian; the contract suite runs against one when
 * INFLUX_V2_URL is set). Nothing of ours is mocked: the real client library speaks real HTTP.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxV2Store } from '../../services/storage/influx/influx-v2-store.js';
import { SinkError } from '../../services/storage/reading-store.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { freePort } from '../support/ports.js';

interface Recorded {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const TOKEN = 'v2-secret-token-abc123';
const TS = Date.UTC(2025, 5, 1, 8, 0, 0);

const reading: Reading = {
  deviceId: 'wp 001',
  kind: 'water_pressure',
  channel: 'telemetry',
  ts: TS,
  seq: 9,
  fields: { pressureMpa: 0.42 },
  buildingId: 'B-7',
  street: '解放碑街道',
};

describe('InfluxV2Store wire format', () => {
  let server: Server;
  let url: string;
  const requests: Recorded[] = [];
  let reply: Reply = { status: 204 };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
        requests.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://recorder'), headers: req.headers, body });
        const r = req.url === '/ping' ? { status: 204 } : reply;
        res.writeHead(r.status, r.headers ?? {});
        res.end(r.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    requests.length = 0;
    reply = { status: 204 };
  });

  const store = (): InfluxV2Store => new InfluxV2Store({ url, token: TOKEN, org: 'yuzhong fire', bucket: 'firewatch' }, { timeoutMs: 2000 });

  async function failure(r: Reply): Promise<SinkError> {
    reply = r;
    const err = await store()
      .write([reading])
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    // One attempt: retries belong to the StoreForwarder, not to the client library.
    expect(requests.filter((q) => q.url.pathname === '/api/v2/write')).toHaveLength(1);
    expect((err as SinkError).message).not.toContain(TOKEN);
    return err as SinkError;
  }

  it('POSTs line protocol to /api/v2/write with org, bucket, precision=ns and a Token header', async () => {
    const event: Reading = { ...reading, channel: 'event', ts: TS + 1000, seq: 10, fields: { alarm: true, message: 'low "p"' } };
    await store().write([reading, event]);
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req?.method).toBe('POST');
    expect(req?.url.pathname).toBe('/api/v2/write');
    expect(req?.url.searchParams.get('org')).toBe('yuzhong fire');
    expect(req?.url.searchParams.get('bucket')).toBe('firewatch');
    expect(req?.url.searchParams.get('precision')).toBe('ns');
    expect(req?.headers.authorization).toBe(`Token ${TOKEN}`);
    // No logId here: the ns offset inside the millisecond falls back to seq (influx-mapping.ts).
    expect(req?.body.split('\n')).toEqual([
      `water_pressure,building=B-7,device=wp\\ 001,street=解放碑街道 pressure_mpa=0.42,seq=9i ${TS}000009`,
      `device_event,building=B-7,device=wp\\ 001,street=解放碑街道 alarm=true,message="low \\"p\\"",seq=10i ${TS + 1000}000010`,
    ]);
  });

  it('gives same-millisecond readings their own ns from the logId (precision=ns), the same on a replay', async () => {
    const burst: Reading[] = [41_999_998, 41_999_999, 42_000_000, 42_000_001].map((logId, i) => ({
      ...reading,
      seq: undefined,
      serverTs: true,
      logId,
      fields: { pressureMpa: 0.4 + i / 100 },
    }));
    await store().write(burst);
    await store().write(burst);
    expect(requests).toHaveLength(2);
    for (const req of requests) {
      expect(req.url.searchParams.get('precision')).toBe('ns');
      expect(req.body.split('\n').map((line) => line.split(' ').at(-1))).toEqual([
        `${TS}999998`,
        `${TS}999999`,
        `${TS}000000`,
        `${TS}000001`,
      ]);
    }
    expect(requests[1]?.body).toBe(requests[0]?.body);
  });

  it('sends nothing for an empty batch', async () => {
    await store().write([]);
    expect(requests).toHaveLength(0);
  });

  it('503 → retryable', async () => {
    const err = await failure({ status: 503, body: '{"code":"unavailable","message":"service unavailable"}', headers: { 'content-type': 'application/json' } });
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('influx_server_error');
    expect(err.message).toContain('service unavailable');
  });

  it('429 → retryable', async () => {
    const err = await failure({ status: 429, body: '{"code":"too many requests","message":"rate limited"}', headers: { 'content-type': 'application/json', 'retry-after': '1' } });
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('influx_throttled');
  });

  it('400 → non-retryable, with the server error text', async () => {
    const msg = 'partial write: field type conflict: input field "pressure_mpa" on measurement "water_pressure" is type string';
    const err = await failure({ status: 400, body: JSON.stringify({ code: 'invalid', message: msg }), headers: { 'content-type': 'application/json' } });
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('influx_rejected');
    expect(err.message).toContain('field type conflict');
  });

  it('401 → retryable (a token problem is fixed by an operator; the outbox keeps the data)', async () => {
    const err = await failure({ status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}', headers: { 'content-type': 'application/json' } });
    expect(err.retryable).toBe(true);
    expect(err.code).toBe('influx_unauthorized');
  });

  it('an unreachable server → retryable influx_unreachable', async () => {
    const closed = await freePort();
    const s = new InfluxV2Store({ url: `http://127.0.0.1:${closed}`, token: TOKEN, org: 'o', bucket: 'b' }, { timeoutMs: 2000 });
    const err = await s.write([reading]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retryable).toBe(true);
    expect((err as SinkError).code).toBe('influx_unreachable');
    await expect(s.ping()).rejects.toMatchObject({ retryable: true, code: 'influx_unreachable' });
  });

  it('queries with Flux (escaped device id, channel measurements, inclusive bounds) and maps the CSV back', async () => {
    reply = {
      status: 200,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      body: [
        '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,string,double,long',
        '#group,false,false,true,true,false,true,true,true,false,false',
        '#default,_result,,,,,,,,,',
        ',result,table,_start,_stop,_time,_measurement,building,device,pressure_mpa,seq',
        `,,0,2025-06-01T07:00:00Z,2025-06-01T09:00:00.001Z,${new Date(TS + 60_000).toISOString()},water_pressure,B-7,"wp ""1""",1,2`,
        `,,0,2025-06-01T07:00:00Z,2025-06-01T09:00:00.001Z,${new Date(TS).toISOString()},water_pressure,B-7,"wp ""1""",0.35,`,
        '',
      ].join('\r\n'),
    };
    const got = await store().query({ deviceId: 'wp "1"', from: TS - 3_600_000, to: TS + 3_600_000, limit: 5 });
    expect(got).toEqual([
      { ts: TS + 60_000, seq: 2, fields: { pressureMpa: 1 } },
      { ts: TS, fields: { pressureMpa: 0.35 } },
    ]);
    const [req] = requests;
    expect(req?.url.pathname).toBe('/api/v2/query');
    expect(req?.url.searchParams.get('org')).toBe('yuzhong fire');
    expect(req?.headers.authorization).toBe(`Token ${TOKEN}`);
    const flux = (JSON.parse(req?.body ?? '{}') as { query: string }).query;
    expect(flux).toContain('from(bucket: "firewatch")');
    expect(flux).toContain('r.device == "wp \\"1\\""');
    expect(flux).toContain(`start: ${new Date(TS - 3_600_000).toISOString()}`);
    expect(flux).toContain(`stop: ${new Date(TS + 3_600_001).toISOString()}`);
    expect(flux).toContain('["water_pressure","water_level","electrical_fire","fire_lane","uitd"]');
    expect(flux).toContain('limit(n: 5)');
  });

  it('reads ns _time values back as the epoch ms they lie in, and stops range() after the whole `to` ms', async () => {
    const iso = new Date(TS).toISOString().replace('.000Z', '');
    reply = {
      status: 200,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      body: [
        '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,double,long',
        '#group,false,false,true,true,false,true,true,false,false',
        '#default,_result,,,,,,,,',
        ',result,table,_start,_stop,_time,_measurement,device,pressure_mpa,seq',
        `,,0,${iso}.000Z,${iso}.001Z,${iso}.000999999Z,water_pressure,wp-1,0.3,3`,
        `,,0,${iso}.000Z,${iso}.001Z,${iso}.000000002Z,water_pressure,wp-1,0.2,2`,
        `,,0,${iso}.000Z,${iso}.001Z,${iso}Z,water_pressure,wp-1,0.1,1`,
        '',
      ].join('\r\n'),
    };
    const got = await store().query({ deviceId: 'wp-1', from: TS, to: TS, limit: 10 });
    expect(got).toEqual([
      { ts: TS, seq: 3, fields: { pressureMpa: 0.3 } },
      { ts: TS, seq: 2, fields: { pressureMpa: 0.2 } },
      { ts: TS, seq: 1, fields: { pressureMpa: 0.1 } },
    ]);
    const flux = (JSON.parse(requests[0]?.body ?? '{}') as { query: string }).query;
    // stop is exclusive: TS + 1 ms keeps TS * 10^6 + 999 999 ns in.
    expect(flux).toContain(`range(start: ${new Date(TS).toISOString()}, stop: ${new Date(TS + 1).toISOString()})`);
  });

  it('pings GET /ping', async () => {
    await store().ping();
    expect(requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(['GET /ping']);
  });
});
