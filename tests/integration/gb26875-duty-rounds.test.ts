/**
 * The district's daily duty check of its UITDs (查岗, issue #14): at GB26875_DUTY_ROUND_AT every
 * UITD in service gets a duty check; the report says who answered (a person pressed the UITD's
 * answer button: its 查岗应答 operation record), who did not within GB26875_DUTY_CHECK_S, and which
 * UITDs could not be reached. Fake UITDs over TCP; the schedule on a manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, decodeAppData } from '../../services/protocols/gb26875/index.js';
import { ManualClock } from '../../services/shared/clock.js';
import { FakeUitd } from '../support/fake-uitd.js';
import { ApiClient, startService, waitFor, type TestService } from '../support/service.js';

// 2026-06-01 08:59:00 China Standard Time
const T0 = Date.UTC(2026, 5, 1, 0, 59, 0);
let clock: ManualClock;
let svc: TestService;
let a: FakeUitd;
let b: FakeUitd;

type Round = { id: string; by: string; deadline: string; items: Array<{ deviceId: string; sent: string; status: string; answeredAt: string | null }>; summary: Record<string, number> };
const rounds = async (api: ApiClient = svc.api) => (await api.get('/api/v1/gb26875/duty-rounds')).body.items as Round[];
const itemOf = (r: Round, id: string) => r.items.find((i) => i.deviceId === id);

beforeAll(async () => {
  clock = new ManualClock(T0);
  svc = await startService({ GB26875_PORT: '0', GB26875_DUTY_CHECK_S: '120', GB26875_DUTY_ROUND_AT: '09:00', GB26875_COMMAND_TIMEOUT_MS: '150' }, undefined, { clock });
  await svc.api.post('/api/v1/buildings', { id: 'dr-1', name: '解放碑 A 座', street: '解放碑', type: 'public', heightM: 90, use: 'complex' });
  await svc.api.post('/api/v1/buildings', { id: 'dr-2', name: '朝天门 B 座', street: '朝天门', type: 'public', heightM: 90, use: 'complex' });
  for (const [id, b2, address] of [['dr-a', 'dr-1', 0x701], ['dr-b', 'dr-1', 0x702], ['dr-c', 'dr-2', 0x703]] as const) {
    expect((await svc.api.post('/api/v1/devices', { id, buildingId: b2, kind: 'uitd', address, reportIntervalS: 30, inService: true })).status).toBe(201);
  }
  a = await FakeUitd.open(svc.fw.gb26875Port!, 0x701);
  b = await FakeUitd.open(svc.fw.gb26875Port!, 0x702);
  await a.heartbeat();
  await b.heartbeat();
  // dr-c is registered but never connects
});
afterAll(async () => {
  a?.close();
  b?.close();
  await svc?.stop();
});

describe('the daily duty check of the UITDs', () => {
  it('runs at 09:00: every UITD in service gets a duty check; the one not connected is unreachable', async () => {
    expect(await rounds()).toEqual([]);
    clock.advance(60_000); // 09:00:00
    const [round] = await waitFor(async () => {
      const r = await rounds();
      return r[0] && r[0].items.every((i) => i.sent !== 'sending') ? r : undefined;
    }, 'the round sent');
    expect(round!.by).toBe('system:schedule');
    expect(itemOf(round!, 'dr-a')).toMatchObject({ sent: 'confirmed', status: 'waiting' });
    expect(itemOf(round!, 'dr-b')).toMatchObject({ sent: 'confirmed', status: 'waiting' });
    expect(itemOf(round!, 'dr-c')).toMatchObject({ sent: 'not_connected', status: 'unreachable' });
    for (const u of [a, b]) {
      const f = u.commands.at(-1)!;
      expect(f.command).toBe(Command.control);
      expect(decodeAppData(f.appData)).toMatchObject({ ok: true, appData: { type: 91 } });
    }
  });

  it("a person answers on one UITD (its 查岗应答 record); the other stays silent past the deadline: the report says who", async () => {
    clock.advance(30_000);
    await a.answerDutyCheck();
    const [round] = await rounds();
    expect(itemOf(round!, 'dr-a')).toMatchObject({ status: 'answered', answeredAt: new Date(T0 + 90_000).toISOString() });
    clock.advance(91_000); // past the 120 s window
    const [after] = await rounds();
    expect(itemOf(after!, 'dr-b')).toMatchObject({ status: 'unanswered', answeredAt: null });
    expect(after!.summary).toEqual({ uitds: 3, answered: 1, unanswered: 1, unreachable: 1, waiting: 0 });
    // a late answer does not count
    await b.answerDutyCheck();
    expect(itemOf((await rounds())[0]!, 'dr-b')!.status).toBe('unanswered');
  });

  it('the next day at 09:00 again; an admin may run one now; a duty officer sees the UITDs of their streets only and may not run one', async () => {
    clock.advance(24 * 3_600_000); // the next day, 09:02
    await waitFor(async () => ((await rounds()).length === 2 ? true : undefined), 'the next daily round');
    const now = await svc.api.post('/api/v1/gb26875/duty-rounds', {});
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ by: 'system:admin', summary: { uitds: 3 } });
    expect((await rounds()).length).toBe(3);
    expect((await svc.api.post('/api/v1/users', { username: 'feng.duty', password: 'duty-password-1', role: 'duty', streets: ['朝天门'] })).status).toBe(201);
    const login = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'feng.duty', password: 'duty-password-1' });
    const duty = new ApiClient(svc.fw.httpUrl, login.body.token as string);
    const mine = await rounds(duty);
    expect(mine[0]!.items.map((i) => i.deviceId)).toEqual(['dr-c']);
    expect((await duty.post('/api/v1/gb26875/duty-rounds', {})).status).toBe(403);
  });
});
