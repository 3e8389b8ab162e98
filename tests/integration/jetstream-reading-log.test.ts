/**
 * JetStreamReadingLog (services/storage/nats/jetstream-reading-log.ts, issue #11) on real
 * nats-server processes (tests/support/nats-cluster.ts): the one ReadingLog contract
 * (tests/support/reading-log-contract.ts) on a single server and on a cluster of three with
 * replicas 3, each case on a stream of its own; then what only JetStream shows: the bounded
 * de-duplication window, two nodes appending the same readings at once through different servers,
 * a server killed (SIGKILL) mid-stream, and the quorum lost and regained.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW_MS, LogError, type ReadingLog } from '../../services/log/reading-log.js';
import { createLogger } from '../../services/shared/logger.js';
import { JetStreamReadingLog, type JetStreamLogOptions } from '../../services/storage/nats/jetstream-reading-log.js';
import type { Reading } from '../../services/telemetry/telemetry.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { readingLogContract } from '../support/reading-log-contract.js';

const silent = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Yesterday on the hour, as the contract uses. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;

function pressure(deviceId: string, seq: number, extra: Partial<Reading> = {}): Reading {
  return { deviceId, kind: 'water_pressure', channel: 'telemetry', ts: T0 + seq * 1000, seq, receivedAt: T0 + seq * 1000 + 250, fields: { pressureMpa: 0.3 + seq / 1000 }, ...extra };
}

let single: NatsCluster | undefined;
let cluster: NatsCluster | undefined;
const admins: NatsConnection[] = [];
let streamCounter = 0;

/** A stream name and subject prefix no other case uses. */
function fresh(tag: string): { stream: string; subjectPrefix: string } {
  streamCounter++;
  return { stream: `FW_${tag}_${streamCounter}`, subjectPrefix: `fw${tag.toLowerCase()}${streamCounter}` };
}

async function admin(servers: string[]): Promise<JetStreamManager> {
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  admins.push(nc);
  return jetstreamManager(nc);
}

beforeAll(async () => {
  [single, cluster] = await Promise.all([startNatsCluster(1), startNatsCluster(3)]);
});

afterAll(async () => {
  for (const nc of admins) await nc.close().catch(() => undefined);
  await single?.stop();
  await cluster?.stop();
});

const SKIP_LATE_RESEND =
  "JetStream's duplicate window is measured on the stream's clock from the first message's arrival, not from the readings' receivedAt; " +
  'this case appends a re-send stamped DEDUPE_WINDOW_MS + 200 s later at once, which the stream rightly still holds as a duplicate. ' +
  'The bounded behaviour is tested below ("de-duplicates within the stream\'s window only")';

/** The contract on one engine: every case gets its own stream, deleted afterwards. */
function contractOn(name: string, servers: () => string[], replicas: number): void {
  readingLogContract(
    name,
    async () => {
      const ids = fresh(replicas === 1 ? 'S' : 'C');
      const opts: JetStreamLogOptions = { servers: servers(), ...ids, replicas, appendTimeoutMs: 10_000, log: silent };
      let log = new JetStreamReadingLog(opts);
      return {
        log,
        reopen: async () => {
          await log.close();
          log = new JetStreamReadingLog(opts);
          return log;
        },
        cleanup: async () => {
          await log.close();
          const jsm = await admin(servers());
          await jsm.streams.delete(ids.stream).catch(() => undefined);
        },
      };
    },
    { skip: { 'keeps a server-timestamped re-send (same seq, same fields, within the window) once; a new value or a late re-send is new': SKIP_LATE_RESEND } },
  );
}

contractOn('jetstream, one server', () => single!.servers, 1);
contractOn('jetstream, three servers, replicas 3', () => cluster!.servers, 3);

async function started(opts: Partial<JetStreamLogOptions> & { servers: string[] }): Promise<JetStreamReadingLog> {
  const log = new JetStreamReadingLog({ ...fresh('X'), replicas: 3, appendTimeoutMs: 5_000, log: silent, ...opts });
  await log.start();
  return log;
}

const all = (log: ReadingLog) => log.readAfter(0, 1_000_000);

describe('JetStreamReadingLog: what only JetStream shows', () => {
  it("de-duplicates within the stream's window only: a re-send after it is a new message (the store's unique key is the later guard)", async () => {
    const log = await started({ servers: single!.servers, replicas: 1, duplicateWindowMs: 1_500 });
    try {
      const at = Date.now();
      const untimed = (receivedAt: number, fields: Reading['fields'] = { pressureMpa: 0.31 }): Reading =>
        pressure('nc-1', 5, { ts: receivedAt, receivedAt, serverTs: true, fields });
      expect((await log.append([untimed(at), untimed(at + 10)])).duplicates).toBe(1);
      expect((await log.append([untimed(at + 500)])).duplicates).toBe(1); // within the window
      expect((await log.append([untimed(at + 600, { pressureMpa: 0.4 })])).appended).toHaveLength(1); // another value
      expect((await log.append([pressure('d-1', 1)])).appended).toHaveLength(1);
      expect((await log.append([pressure('d-1', 1)])).duplicates).toBe(1);
      await sleep(2_000); // the window passes on the stream's clock
      expect((await log.append([untimed(Date.now())])).appended).toHaveLength(1);
      // a device-timestamped re-send after the window too: bounded, as ADR 0009 says
      expect((await log.append([pressure('d-1', 1)])).appended).toHaveLength(1);
      expect((await all(log)).map((r) => `${r.deviceId}/${String(r.fields.pressureMpa)}`)).toEqual(['nc-1/0.31', 'nc-1/0.4', 'd-1/0.301', 'nc-1/0.31', 'd-1/0.301']);
      expect(DEDUPE_WINDOW_MS).toBe(600_000); // the default window the stream gets
    } finally {
      await log.close();
    }
  });

  it('a single server killed (SIGKILL) and restarted keeps what it acknowledged and still knows its msg ids', async () => {
    const s = single!;
    const ids = fresh('R');
    const log = await started({ ...ids, servers: s.servers, replicas: 1, appendTimeoutMs: 2_000, probeMs: 100 });
    try {
      const first = await log.append([pressure('r-1', 1), pressure('r-1', 2), pressure('r-2', 1)]);
      await s.kill(0);
      const refused = await log.append([pressure('r-1', 3)]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(LogError);
      expect(log.health()).toMatchObject({ ok: false, failures: 1 });
      await s.restart(0);
      await expect.poll(() => log.health().ok, { timeout: 10_000 }).toBe(true); // the probe saw the stream again
      expect((await all(log)).map((r) => r.logId)).toEqual(first.appended.map((r) => r.logId));
      const again = await log.append([pressure('r-1', 2), pressure('r-1', 3)]);
      expect(again.duplicates).toBe(1);
      expect(again.appended[0]!.logId).toBeGreaterThan(first.appended[2]!.logId!);
    } finally {
      await log.close();
    }
  });

  it('two nodes appending the same readings at once through different servers: each stored once, one of them told it appended it', async () => {
    const ids = fresh('T');
    const a = await started({ ...ids, servers: [cluster!.nodes[0]!.url], connectionName: 'node-a' });
    const b = await started({ ...ids, servers: [cluster!.nodes[1]!.url], connectionName: 'node-b' });
    try {
      const heardA: number[] = [];
      const heardB: number[] = [];
      a.onAppend((rs) => heardA.push(...rs.map((r) => r.logId!)));
      b.onAppend((rs) => heardB.push(...rs.map((r) => r.logId!)));
      const batches = Array.from({ length: 20 }, (_, i) => Array.from({ length: 10 }, (_, j) => pressure(`dup-${j}`, i)));
      const copy = (rs: Reading[]) => rs.map((r) => structuredClone(r));
      const results = await Promise.all(batches.flatMap((batch) => [a.append(copy(batch)), b.append(copy(batch))]));
      const appended = results.flatMap((r) => r.appended);
      expect(appended).toHaveLength(200);
      expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(200);
      const stored = await all(a);
      expect(stored).toHaveLength(200);
      expect(new Set(stored.map((r) => `${r.deviceId}/${r.seq}`)).size).toBe(200);
      expect(new Set(appended.map((r) => r.logId)).size).toBe(200);
      expect([...heardA, ...heardB].sort((x, y) => x - y)).toEqual(stored.map((r) => r.logId));
      expect(await b.lastId()).toBe(stored[199]!.logId);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a server killed mid-stream: appends go on (replicas 3, quorum 2) and nothing acknowledged is lost; with the quorum gone an append is refused in time, then works again', async () => {
    const c = cluster!;
    const ids = fresh('K');
    const log = await started({ ...ids, servers: c.servers, appendTimeoutMs: 2_000, probeMs: 200 });
    const jsm = await admin(c.servers);
    const acked = new Map<number, string>();
    const successes: number[] = [];
    let n = 0;
    /** appends batches of 5, one at a time, while `more()`; a refused one is not re-sent (the device's next readings carry new seqs) */
    const appendWhile = async (more: () => boolean): Promise<void> => {
      while (more()) {
        const batch = Array.from({ length: 5 }, (_, j) => pressure(`k-${j}`, n));
        n++;
        try {
          for (const r of (await log.append(batch)).appended) acked.set(r.logId!, `${r.deviceId}/${r.seq}`);
          successes.push(Date.now());
        } catch (err) {
          expect(err).toBeInstanceOf(LogError); // refused, not hung: the device re-sends
          await sleep(50);
        }
      }
    };
    const appendFor = (ms: number) => {
      const until = Date.now() + ms;
      return appendWhile(() => Date.now() < until);
    };
    try {
      await appendFor(500);
      const leader = (await jsm.streams.info(ids.stream)).cluster?.leader;
      const victim = Math.max(0, c.nodes.findIndex((x) => x.name === leader));
      let killedAt = Infinity;
      const giveUp = Date.now() + 20_000;
      const during = appendWhile(() => successes.filter((t) => t > killedAt).length < 20 && Date.now() < giveUp);
      await sleep(500);
      killedAt = Date.now();
      await c.kill(victim); // the stream's leader: the two left elect another (RAFT, JetStream's election timeout)
      await during;
      const after = successes.filter((t) => t > killedAt);
      expect(after).toHaveLength(20); // appends went on
      expect(after[0]! - killedAt).toBeLessThan(15_000); // within the election (nats-server 2.9: 4 to 9 s, and the client's reconnect)
      await c.restart(victim);

      // every acknowledged logId is in the stream with the reading it was acknowledged for
      await expect.poll(async () => (await jsm.streams.info(ids.stream)).cluster?.replicas?.every((r) => r.current) ?? false, { timeout: 15_000 }).toBe(true);
      const stored = new Map((await all(log)).map((r) => [r.logId!, `${r.deviceId}/${r.seq}`]));
      expect(acked.size).toBe(successes.length * 5);
      expect(acked.size).toBeGreaterThan(100);
      for (const [id, key] of acked) expect(stored.get(id)).toBe(key);
      // more may be stored than acknowledged: an append whose PubAck was lost with the leader
      expect(stored.size).toBeGreaterThanOrEqual(acked.size);

      // the quorum gone: two of three killed
      const others = [0, 1, 2].filter((i) => i !== victim);
      await c.kill(others[0]!);
      await c.kill(victim);
      const t = Date.now();
      const refused = await log.append([pressure('q-1', 1)]).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(LogError);
      expect(['log_timeout', 'log_write_failed']).toContain((refused as LogError).code);
      expect(Date.now() - t).toBeLessThan(2_000 + 1_000);
      expect(log.health().ok).toBe(false);

      // one back: quorum 2 of 3 again
      await c.restart(victim);
      await expect
        .poll(
          async () =>
            log.append([pressure('q-1', 2)]).then(
              (r) => r.appended.length + r.duplicates,
              () => 0,
            ),
          { timeout: 20_000, interval: 250 },
        )
        .toBe(1);
      expect(log.health().ok).toBe(true);
      await c.restart(others[0]!);
    } finally {
      await log.close();
    }
  });
});
