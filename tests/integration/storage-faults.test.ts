/**
 * Storage faults through the wire: the real service, real MQTT (mqtt.js), the real SQLite file.
 *
 *   - another process holds the database's write lock: the reading log's writer cannot commit,
 *     so the broker sends no PUBACK and closes the connection; the device re-sends after it
 *     reconnects and, once the lock is gone, the reading is stored exactly once; an append that
 *     timed out for its caller while the writer still waited commits late, and the re-send is
 *     then a duplicate;
 *   - the lock outlives the writer's busy timeout: the service stays up (HTTP, new MQTT
 *     connections), /readyz says why it is not ready, and it recovers by itself without traffic;
 *   - firewatch.db (registry, feed, alerts, positions; not the log's file) is locked: readings are
 *     still acknowledged, /readyz names the writes that fail, and is ready again by itself;
 *   - the disk is full (a small tmpfs as DATA_DIR): readings are refused, not acknowledged, and
 *     after space is freed they are accepted; nothing acknowledged is missing.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { endClient, metricValue, provisionDevice, publish, startService, waitFor, type ApiClient, type Provisioned, type TestService } from '../support/service.js';

const REPO = join(import.meta.dirname, '..', '..');
/** small timeouts so a lock of a few seconds outlives them */
const FAST_FAULTS = { LOG_BUSY_TIMEOUT_MS: '300', LOG_APPEND_TIMEOUT_MS: '1500', DEVICE_RATE_PER_S: '1000', DEVICE_RATE_BURST: '1000' };

const telemetry = (deviceId: string) => `fire/v1/${deviceId}/telemetry`;
/**
 * The SQLite file the reading log writes: the one in DATA_DIR with the `readings` table
 * (readings.db beside firewatch.db once the log has a file of its own, else firewatch.db).
 */
function logFile(svc: TestService): string {
  for (const name of ['readings.db', 'firewatch.db']) {
    const file = join(svc.dataDir, name);
    if (!existsSync(file)) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'").pluck().get() !== undefined) return file;
    } finally {
      db.close();
    }
  }
  throw new Error(`no SQLite file with a readings table in ${svc.dataDir}`);
}

/**
 * Holds the write lock of a SQLite file from another process. In WAL mode (the service's files are WAL)
 * BEGIN IMMEDIATE and BEGIN EXCLUSIVE both take the one writer lock: other writers get
 * SQLITE_BUSY, readers go on. It waits up to 5 s for a write of the service's in progress to end (a
 * locker that gave up at once failed the test when it started during one). The lock is released
 * when the test writes a line to stdin (or after `maxHoldMs`, so a failing test never leaves it behind).
 */
const LOCKER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { fileMustExist: true });
// waits its turn (the service writes every second), then holds the lock
db.pragma('busy_timeout = 5000');
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\\n');
let done = false;
const release = () => {
  if (done) return;
  done = true;
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\\n');
  process.exit(0);
};
process.stdin.on('data', release);
setTimeout(release, Number(process.argv[2]));
`;

class Locker {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly exited: Promise<number | null>,
    private readonly output: () => string,
  ) {}

  static async hold(file: string, maxHoldMs = 20_000): Promise<Locker> {
    const proc = spawn(process.execPath, ['-e', LOCKER, file, String(maxHoldMs)], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the locker did not take the lock in 10 s: ${out}`)), 10_000);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the locker exited (${code}) before it took the lock: ${out}`));
      });
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        out += `${line}\n`;
        if (line === 'locked') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return new Locker(proc, exited, () => out);
  }

  get holding(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** COMMIT in the other process; resolves once it has exited. */
  async release(): Promise<void> {
    if (this.holding) this.proc.stdin!.write('release\n');
    const code = await this.exited;
    expect(code, this.output()).toBe(0);
    expect(this.output()).toContain('released');
  }

  kill(): void {
    if (this.holding) this.proc.kill('SIGKILL');
  }
}

/** What the lock does to another connection: a write gets SQLITE_BUSY at once, a read still works. */
function lockEffect(file: string): { writeError: string | undefined; readOk: boolean } {
  const db = new Database(file, { fileMustExist: true });
  try {
    // waits its turn (the service writes every second), then holds the lock
db.pragma('busy_timeout = 5000');
    let writeError: string | undefined;
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    } catch (err) {
      writeError = (err as { code?: string }).code;
    }
    const readOk = typeof db.prepare('SELECT COUNT(*) FROM sqlite_master').pluck().get() === 'number';
    return { writeError, readOk };
  } finally {
    db.close();
  }
}

/** Rows of `readings` with this device and seq, through a separate read-only connection. */
function storedRows(file: string, deviceId: string, seq?: number): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      seq === undefined
        ? db.prepare('SELECT COUNT(*) FROM readings WHERE device_id = ?').pluck().get(deviceId)
        : db.prepare('SELECT COUNT(*) FROM readings WHERE device_id = ? AND seq = ?').pluck().get(deviceId, seq)
    ) as number;
  } finally {
    db.close();
  }
}

function storedSeqs(file: string, deviceId: string): number[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq FROM readings WHERE device_id = ? ORDER BY seq').pluck().all(deviceId) as number[];
  } finally {
    db.close();
  }
}

async function apiSeqs(api: ApiClient, deviceId: string): Promise<number[]> {
  const r = await api.get(`/api/v1/devices/${deviceId}/readings?limit=1000`);
  return (r.body.items as Array<{ seq: number }>).map((x) => x.seq);
}

const logAppendErrors = async (api: ApiClient) => metricValue((await api.get('/metrics')).body as string, 'firewatch_storage_errors_total', { op: 'log_append' });

/** GET /healthz every 50 ms until stopped; every answer's status and the slowest one. */
function watchHealth(api: ApiClient) {
  const statuses: number[] = [];
  let slowestMs = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const r = await api.get('/healthz').catch(() => ({ status: 0 }));
      slowestMs = Math.max(slowestMs, performance.now() - t0);
      statuses.push(r.status);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { statuses, slowestMs };
    },
  };
}

/**
 * A device as mqtt.js runs one: it reconnects every 200 ms and then re-sends the QoS 1 messages
 * still unacknowledged (mqtt.js does that from its outgoing store, also with clean: true).
 */
function reconnectingDevice(url: string, p: Provisioned) {
  const client = mqtt.connect(url, {
    username: p.deviceId,
    password: p.password,
    clientId: `${p.deviceId}-storage`,
    reconnectPeriod: 200,
    connectTimeout: 5_000,
  });
  const stats = { closes: 0, publishesSent: 0, connacks: [] as number[] };
  client.on('error', () => undefined);
  client.on('close', () => stats.closes++);
  client.on('packetsend', (p) => {
    if (p.cmd === 'publish') stats.publishesSent++;
  });
  client.on('packetreceive', (p) => {
    if (p.cmd === 'connack') stats.connacks.push((p as IConnackPacket).returnCode ?? -1);
  });
  return { client, stats };
}

/** Connect without reconnecting; resolves with the CONNACK. */
function connectOnce(url: string, p: Provisioned, clientId: string): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { username: p.deviceId, password: p.password, clientId, reconnectPeriod: 0, connectTimeout: 5_000 });
    client.once('connect', (connack) => resolve({ client, connack }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

interface Sent {
  seq: number;
  ackedAt?: number;
  error?: Error;
}

function publishTracked(client: MqttClient, deviceId: string, msg: { seq: number; ts: number; pressureMpa: number }): Sent {
  const sent: Sent = { seq: msg.seq };
  client.publish(telemetry(deviceId), JSON.stringify(msg), { qos: 1 }, (err) => {
    if (err) sent.error = err;
    else sent.ackedAt = Date.now();
  });
  return sent;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      /* the test's own assertion is what matters */
    }
  }
});

describe('the database is locked by another process', () => {
  it('no PUBACK while locked; the re-sent reading is acknowledged after the release and stored exactly once', async () => {
    const svc = await startService(FAST_FAULTS);
    cleanups.push(() => svc.stop());
    const p = await provisionDevice(svc.api);
    const { client, stats } = reconnectingDevice(svc.mqttUrl, p);
    cleanups.push(() => void client.end(true));
    await waitFor(() => client.connected, 'the device connected');
    const before = await logAppendErrors(svc.api);

    const locker = await Locker.hold(logFile(svc));
    cleanups.push(() => locker.kill());
    // the lock blocks writers (SQLITE_BUSY with no wait) and not readers
    expect(lockEffect(logFile(svc))).toEqual({ writeError: 'SQLITE_BUSY', readOk: true });
    const health = watchHealth(svc.api);
    const lockedAt = Date.now();

    const sent = publishTracked(client, p.deviceId, { seq: 30000001, ts: Date.now() - 1000, pressureMpa: 0.3 });
    // refused: the broker closes the connection without a PUBACK; mqtt.js reconnects and re-sends,
    // and that is refused too while the lock is held (4 s: more than twice the append timeout of 1.5 s)
    await waitFor(() => stats.closes >= 2 && stats.publishesSent >= 2 && Date.now() - lockedAt >= 4_000, 'the device refused, re-sending and refused again', 15_000);
    expect(locker.holding).toBe(true);
    expect(sent.ackedAt).toBeUndefined();
    expect(sent.error).toBeUndefined();
    expect(storedRows(logFile(svc), p.deviceId)).toBe(0);
    expect(await logAppendErrors(svc.api)).toBeGreaterThan(before);

    const releasedAt = Date.now();
    await locker.release();
    // mqtt.js re-sends on its own after the next reconnect; no re-publish by the test
    await waitFor(() => sent.ackedAt !== undefined, 'the PUBACK after the lock was released', 10_000);
    expect(sent.ackedAt!).toBeGreaterThanOrEqual(releasedAt);
    const { statuses, slowestMs } = await health.stop();

    expect(stats.publishesSent).toBeGreaterThanOrEqual(3); // the original and at least two re-sends
    await svc.fw.processors.idle();
    expect(storedRows(logFile(svc), p.deviceId, 30000001)).toBe(1);
    expect(storedRows(logFile(svc), p.deviceId)).toBe(1);
    expect(await apiSeqs(svc.api, p.deviceId)).toEqual([30000001]);
    expect(metricValue((await svc.api.get('/metrics')).body as string, 'firewatch_storage_errors_total', { op: 'log_append' })).toBeGreaterThan(0);
    // the HTTP API answered throughout the lock
    expect(statuses.length).toBeGreaterThanOrEqual(10);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(slowestMs).toBeLessThan(2_000);
  });

  it('an append refused by its timeout while the writer still waits commits late; the re-send is a duplicate, one row', async () => {
    // the writer waits up to 4 s for the lock, its callers only 1 s
    const svc = await startService({ ...FAST_FAULTS, LOG_BUSY_TIMEOUT_MS: '4000', LOG_APPEND_TIMEOUT_MS: '1000' });
    cleanups.push(() => svc.stop());
    const p = await provisionDevice(svc.api);
    const { client, stats } = reconnectingDevice(svc.mqttUrl, p);
    cleanups.push(() => void client.end(true));
    await waitFor(() => client.connected, 'the device connected');
    const metrics = async () => (await svc.api.get('/metrics')).body as string;
    const duplicatesBefore = metricValue(await metrics(), 'firewatch_messages_duplicate_total');

    const locker = await Locker.hold(logFile(svc));
    cleanups.push(() => locker.kill());
    const sent = publishTracked(client, p.deviceId, { seq: 30000002, ts: Date.now() - 1000, pressureMpa: 0.3 });
    await waitFor(() => stats.closes >= 1, 'the append refused after 1 s (connection closed, no PUBACK)', 10_000);
    expect(sent.ackedAt).toBeUndefined();
    const down = await svc.api.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.checks.log.reason).toMatch(/log append took longer than 1000 ms/);
    expect(storedRows(logFile(svc), p.deviceId)).toBe(0);

    // released while the writer still waits: the refused batch commits after all
    await locker.release();
    await waitFor(() => sent.ackedAt !== undefined, 'the PUBACK of the re-sent reading', 10_000);
    await waitFor(async () => metricValue(await metrics(), 'firewatch_messages_duplicate_total') > duplicatesBefore, 'the re-send counted as a duplicate');
    expect(storedRows(logFile(svc), p.deviceId, 30000002)).toBe(1);
    expect(storedRows(logFile(svc), p.deviceId)).toBe(1);
    // the late commit still reached the processors
    await svc.fw.processors.idle();
    const ready = await svc.api.get('/readyz');
    expect(ready.body.checks.log).toEqual({ ready: true, log: 'sqlite' });
    expect(ready.body.checks.processors.lag).toBe(0);
    expect(ready.body.checks.processors.position).toBeGreaterThan(0);
  });

  it('a lock longer than the busy timeout: the service stays up, /readyz is 503 with the reason, then 200 by itself', async () => {
    const svc = await startService(FAST_FAULTS);
    cleanups.push(() => svc.stop());
    const p = await provisionDevice(svc.api);
    const other = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'sprinkler_end' }, p.buildingId);
    expect((await svc.api.get('/readyz')).status).toBe(200);

    // a device that does not reconnect on its own: after the release nothing reaches the service
    const { client: device } = await connectOnce(svc.mqttUrl, p, `${p.deviceId}-a`);
    cleanups.push(() => void device.end(true));
    let closed = false;
    device.on('close', () => (closed = true));
    device.on('error', () => undefined);

    const locker = await Locker.hold(logFile(svc));
    cleanups.push(() => locker.kill());
    const lockedAt = Date.now();
    const msg = { seq: 42, ts: Date.now() - 5_000, pressureMpa: 0.31 };
    const sent = publishTracked(device, p.deviceId, msg);
    await waitFor(() => closed, 'the connection closed by the broker (append refused)', 10_000);
    expect(sent.ackedAt).toBeUndefined();

    const during = await waitFor(
      async () => {
        const r = await svc.api.get('/readyz');
        return r.status === 503 && r.body.checks.log.ready === false ? r : undefined;
      },
      '/readyz 503 with log not ready',
      5_000,
    );
    expect(during.body.ready).toBe(false);
    expect(during.body.checks.log.reason).toMatch(/database is locked/);
    expect(during.body.checks.log.failingSince).toEqual(expect.any(String));
    expect(during.body.checks.storage.ready).toBe(false);
    expect(during.body.checks.storage.failing).toEqual(expect.arrayContaining([expect.objectContaining({ op: 'log_append', reason: expect.stringMatching(/locked/) })]));
    expect(during.body.checks.broker.ready).toBe(true);
    expect((await svc.api.get('/healthz')).status).toBe(200);

    // the broker still accepts new connections while the log is down
    const { client: second, connack } = await connectOnce(svc.mqttUrl, other, `${other.deviceId}-b`);
    expect(connack.returnCode).toBe(0);
    await endClient(second);
    // keep the lock past the writer's busy timeout (300 ms) and the append timeout (1.5 s): the
    // log's probes keep failing, /readyz stays 503 and HTTP keeps answering
    for (let polls = 0; Date.now() - lockedAt < 2_500 || polls < 3; polls++) {
      const r = await svc.api.get('/readyz');
      expect(r.status).toBe(503);
      expect(r.body.checks.log).toMatchObject({ ready: false, reason: expect.stringMatching(/database is locked/) });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(locker.holding).toBe(true);
    expect(storedRows(logFile(svc), p.deviceId)).toBe(0);

    await locker.release();
    const releasedAt = Date.now();
    // the log's own probe finds the database writable again
    await waitFor(async () => (await svc.api.get('/readyz')).body.checks.log.ready === true, 'checks.log ready again after the release', 5_000, 100);
    let last: unknown;
    const after = await waitFor(
      async () => {
        const r = await svc.api.get('/readyz');
        last = r.body;
        return r.status === 200 ? r : undefined;
      },
      '/readyz 200 after the release, without traffic',
      8_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last /readyz: ${JSON.stringify(last)}`, { cause: err });
    });
    expect(Date.now() - releasedAt).toBeLessThan(8_000);
    expect(after.body.checks.log).toEqual({ ready: true, log: 'sqlite' });
    expect(after.body.checks.storage).toEqual({ ready: true });

    // the device comes back and re-sends the refused message: accepted and stored, once
    const { client: again } = await connectOnce(svc.mqttUrl, p, `${p.deviceId}-a`);
    cleanups.push(() => void again.end(true));
    await publish(again, telemetry(p.deviceId), msg);
    await endClient(again);
    expect(storedRows(logFile(svc), p.deviceId, 42)).toBe(1);
    expect(await apiSeqs(svc.api, p.deviceId)).toEqual([42]);
  });
});

describe('the main database (firewatch.db) is locked by another process', () => {
  it('readings are still acknowledged and stored; /readyz names the failing writes, then is 200 by itself after the release', async () => {
    const svc = await startService(FAST_FAULTS);
    cleanups.push(() => svc.stop());
    const main = join(svc.dataDir, 'firewatch.db');
    expect(logFile(svc), 'the reading log has a file of its own beside firewatch.db').not.toBe(main);
    const p = await provisionDevice(svc.api);
    const other = await provisionDevice(svc.api, { kind: 'water_pressure', point: 'sprinkler_end' }, p.buildingId);
    const { client: device } = await connectOnce(svc.mqttUrl, p, `${p.deviceId}-a`);
    cleanups.push(() => void device.end(true));
    device.on('error', () => undefined);
    expect((await svc.api.get('/readyz')).status).toBe(200);

    const locker = await Locker.hold(main);
    cleanups.push(() => locker.kill());
    expect(lockEffect(main)).toEqual({ writeError: 'SQLITE_BUSY', readOk: true });
    // the accept path does not write firewatch.db: the PUBACK comes while it is locked
    await publish(device, telemetry(p.deviceId), { seq: 7, ts: Date.now() - 1000, pressureMpa: 0.3 });
    expect(locker.holding).toBe(true);
    expect(storedRows(logFile(svc), p.deviceId, 7)).toBe(1);
    // a device connecting and leaving: its presence on the live feed cannot be written
    const { client: second, connack } = await connectOnce(svc.mqttUrl, other, `${other.deviceId}-b`);
    expect(connack.returnCode).toBe(0);
    await endClient(second);
    const during = await waitFor(
      async () => {
        const r = await svc.api.get('/readyz');
        return r.status === 503 && r.body.checks.storage.ready === false ? r : undefined;
      },
      '/readyz 503 with storage failing',
      5_000,
    );
    expect(during.body.checks.log.ready).toBe(true);
    const failing = (during.body.checks.storage.failing as Array<{ op: string; reason: string }>).map((f) => f.op);
    expect(failing).toContain('feed');
    expect(during.body.checks.storage.failing.every((f: { reason: string }) => /database is locked/.test(f.reason))).toBe(true);
    expect((await svc.api.get('/healthz')).status).toBe(200);

    await locker.release();
    // nothing connects, disconnects or publishes from here on: the service must find out by itself
    let last: unknown;
    await waitFor(
      async () => {
        const r = await svc.api.get('/readyz');
        last = r.body;
        return r.status === 200;
      },
      '/readyz 200 after the release of firewatch.db, without traffic',
      8_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last /readyz: ${JSON.stringify(last)}`, { cause: err });
    });
    // the processors caught up with the reading accepted during the lock
    await svc.fw.processors.idle();
    expect(svc.fw.processors.lag()).toBe(0);
  });
});

describe('the disk is full', () => {
  let mountDir: string | undefined;
  let mounted = false;

  afterAll(async () => {
    if (!mountDir) return;
    if (mounted) {
      // the service closed its files in afterEach; a file still open there makes umount fail
      await waitFor(
        () => {
          execFileSync('umount', [mountDir!], { stdio: 'pipe' });
          return true;
        },
        `umount ${mountDir}`,
        5_000,
        100,
      ).catch((err: Error) => {
        execFileSync('umount', ['-l', mountDir!]);
        throw new Error(`${mountDir} was still busy (a file left open on it); detached it lazily`, { cause: err });
      });
    }
    rmdirSync(mountDir);
  });

  it('readings are refused (no PUBACK) while the disk is full, accepted after space is freed; nothing acknowledged is missing', async () => {
    mountDir = mkdtempSync(join(tmpdir(), 'firewatch-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
      throw new Error(`this test needs a small tmpfs as DATA_DIR and could not mount one at ${mountDir} (run as root with CAP_SYS_ADMIN): ${stderr}`, { cause: err });
    }
    mounted = true;
    const dataDir = join(mountDir, 'data');
    const svc = await startService(FAST_FAULTS, dataDir);
    cleanups.push(() => svc.stop({ keepData: true }));
    const p = await provisionDevice(svc.api);
    const { client, stats } = reconnectingDevice(svc.mqttUrl, p);
    cleanups.push(() => void client.end(true));
    await waitFor(() => client.connected, 'the device connected');
    const ts0 = Date.now() - 60_000;
    let seq = 0;
    const sent: Sent[] = [];
    // a few readings while there is room
    for (let i = 0; i < 3; i++) {
      const s = publishTracked(client, p.deviceId, { seq: ++seq, ts: ts0 + seq, pressureMpa: 0.3 });
      sent.push(s);
      await waitFor(() => s.ackedAt !== undefined, `PUBACK of seq ${s.seq} before the disk is full`);
    }

    // fill the disk to the last byte
    const filler = join(mountDir, 'filler');
    const fd = openSync(filler, 'w');
    let filled = 0;
    try {
      for (let chunk = 1 << 20; chunk >= 1; ) {
        try {
          filled += writeSync(fd, Buffer.alloc(chunk, 0x55));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          chunk = Math.floor(chunk / 2);
        }
      }
    } finally {
      closeSync(fd);
    }
    cleanups.push(() => rmSync(filler, { force: true }));
    expect(filled).toBeGreaterThan(1 << 20);
    const errorsBefore = await logAppendErrors(svc.api);

    // publish one at a time until one is refused (the first may fit in pages the WAL already has)
    let refused: Sent | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const closesBefore = stats.closes;
      const s = publishTracked(client, p.deviceId, { seq: ++seq, ts: ts0 + seq, pressureMpa: 0.3 });
      sent.push(s);
      await waitFor(() => s.ackedAt !== undefined || stats.closes > closesBefore, `PUBACK or refusal of seq ${s.seq}`, 10_000, 5);
      if (s.ackedAt === undefined) refused = s;
    }
    expect(refused, 'no reading was refused while the disk was full').toBeDefined();
    // two more while the device is being refused: mqtt.js keeps them and sends them after each reconnect
    for (let i = 0; i < 2; i++) sent.push(publishTracked(client, p.deviceId, { seq: ++seq, ts: ts0 + seq, pressureMpa: 0.3 }));
    const ackedWhileFull = sent.filter((s) => s.ackedAt !== undefined).map((s) => s.seq);
    const refusedSeqs = sent.filter((s) => s.ackedAt === undefined).map((s) => s.seq);

    // the process is alive and says why it is not ready
    expect((await svc.api.get('/healthz')).status).toBe(200);
    const full = await waitFor(
      async () => {
        const r = await svc.api.get('/readyz');
        return r.status === 503 && r.body.checks.log.ready === false ? r : undefined;
      },
      '/readyz 503 with log not ready',
      5_000,
    );
    expect(full.body.checks.log.reason).toMatch(/database or disk is full/);
    expect(await logAppendErrors(svc.api)).toBeGreaterThan(errorsBefore);
    // the refused readings are re-sent on every reconnect and refused again while the disk is full
    const resends = stats.publishesSent;
    const closes = stats.closes;
    await waitFor(() => stats.publishesSent >= resends + 3 && stats.closes >= closes + 2, 'more re-sends, refused again', 10_000);
    expect(sent.filter((s) => s.ackedAt !== undefined).map((s) => s.seq)).toEqual(ackedWhileFull);
    for (const q of refusedSeqs) expect(storedRows(logFile(svc), p.deviceId, q), `seq ${q} stored while refused`).toBe(0);
    expect((await svc.api.get('/healthz')).status).toBe(200);

    rmSync(filler);
    await waitFor(async () => (await svc.api.get('/readyz')).status === 200, '/readyz 200 after space was freed', 10_000, 100);
    // mqtt.js re-sends the refused readings itself after reconnecting
    await waitFor(() => sent.every((s) => s.ackedAt !== undefined), 'every refused reading acknowledged after the recovery', 10_000);
    expect(sent.every((s) => s.error === undefined)).toBe(true);

    const stored = storedSeqs(logFile(svc), p.deviceId);
    const missing = sent.map((s) => s.seq).filter((q) => !stored.includes(q));
    expect(missing).toEqual([]);
    expect(stored).toEqual(sent.map((s) => s.seq)); // each once
    expect(refusedSeqs.length).toBeGreaterThanOrEqual(3);
    expect((await apiSeqs(svc.api, p.deviceId)).sort((a, b) => a - b)).toEqual(sent.map((s) => s.seq));
  });
});
