/**
 * Firewatch as a monitoring centre towards its UITDs (issue #14): with a fake UITD on the GB/T
 * 26875.3 gateway, the API's commands produce the right frames (command byte, type, the UITD's
 * addresses swapped, one serial per command kept across resends) and give back the answers — a
 * confirm, a read's response decoded, a deny — or the timeout after 3 tries, or not_connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, decodeAppData, encodeUitdStatus } from '../../services/protocols/gb26875/index.js';
import { CENTRE, FakeUitd, UITD } from '../support/fake-uitd.js';
import { ApiClient, startService, waitFor, type TestService } from '../support/service.js';

let svc: TestService;
let uitd: FakeUitd;
let duty: ApiClient;
const send = async (command: string, api: ApiClient = duty) => api.post('/api/v1/devices/cc-uitd/gb26875/commands', { command });

beforeAll(async () => {
  svc = await startService({ GB26875_PORT: '0', GB26875_COMMAND_TIMEOUT_MS: '150' });
  await svc.api.post('/api/v1/buildings', { id: 'cc-b', name: '重庆天地', street: '解放碑', type: 'public', heightM: 90, use: 'complex' });
  expect((await svc.api.post('/api/v1/devices', { id: 'cc-uitd', buildingId: 'cc-b', kind: 'uitd', address: UITD, reportIntervalS: 30, inService: true })).status).toBe(201);
  expect((await svc.api.post('/api/v1/users', { username: 'zhou.duty', password: 'duty-password-1', role: 'duty', streets: ['解放碑'] })).status).toBe(201);
  const login = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'zhou.duty', password: 'duty-password-1' });
  duty = new ApiClient(svc.fw.httpUrl, login.body.token as string);
  uitd = await FakeUitd.open(svc.fw.gb26875Port!);
  await uitd.heartbeat();
});
afterAll(async () => {
  uitd?.close();
  await svc?.stop();
});

describe('the duty room sends a UITD commands (Firewatch as the monitoring centre)', () => {
  it('clock sync: control 1, type 90 with our time, from the address the UITD sends to; confirmed', async () => {
    const r = await send('clock_sync');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ command: 'clock_sync', outcome: 'confirmed', attempts: 1, by: 'zhou.duty' });
    const f = uitd.commands.at(-1)!;
    expect(f).toMatchObject({ command: Command.control, serial: r.body.serial, source: CENTRE, destination: UITD });
    const a = decodeAppData(f.appData);
    expect(a.ok && a.appData.type).toBe(90);
    const t = a.ok ? (a.appData.objects[0] as { time: Date }).time : null;
    expect(Math.abs(t!.getTime() - Date.now())).toBeLessThan(3000);
  });

  it('duty check: control 1, type 91; confirmed', async () => {
    const r = await send('duty_check');
    expect(r.body).toMatchObject({ command: 'duty_check', outcome: 'confirmed' });
    const f = uitd.commands.at(-1)!;
    expect(f.command).toBe(Command.control);
    expect(decodeAppData(f.appData)).toMatchObject({ ok: true, appData: { type: 91 } });
  });

  it('reads: request 4 with types 81 / 85 / 86 / 88; the responses (types 21 / 25 / 26 / 28) come back decoded', async () => {
    const now = new Date();
    uitd.answer = (f) => {
      const a = decodeAppData(f.appData);
      const type = a.ok ? a.appData.type : 0;
      if (type === 81) return { command: Command.response, data: { type: 21, objects: [{ status: encodeUitdStatus({ normal: true, mainPowerFault: true }), time: now }] } };
      if (type === 85) return { command: Command.response, data: { type: 25, objects: [{ major: 2, minor: 7 }] } };
      if (type === 86) return { command: Command.response, data: { type: 26, objects: [{ text: 'FD-UITD-200 v2.7' }] } };
      if (type === 88) return { command: Command.response, data: { type: 28, objects: [{ time: now }] } };
      return { command: Command.deny };
    };
    const status = await send('read_status');
    expect(status.body).toMatchObject({ outcome: 'answered', answer: { status: 0b1001, flags: { normal: true, mainPowerFault: true, fault: false } } });
    expect(uitd.commands.at(-1)).toMatchObject({ command: Command.request });
    expect(decodeAppData(uitd.commands.at(-1)!.appData)).toMatchObject({ ok: true, appData: { type: 81 } });
    expect((await send('read_version')).body).toMatchObject({ outcome: 'answered', answer: { major: 2, minor: 7 } });
    expect((await send('read_config')).body).toMatchObject({ outcome: 'answered', answer: { text: 'FD-UITD-200 v2.7' } });
    const time = await send('read_time');
    expect(time.body.outcome).toBe('answered');
    expect(Math.abs(Date.parse(time.body.answer.time) - now.getTime())).toBeLessThan(1500);
  });

  it("read_analog: request 4, type 63 naming the component; its analog values (type 3) come back, all of them", async () => {
    uitd.answer = (f) => {
      const a = decodeAppData(f.appData);
      if (!a.ok || a.appData.type !== 63) return { command: Command.deny };
      const c = a.appData.objects[0] as { systemType: number; systemAddress: number; address: { zone: number; position: number } };
      const comp = { systemType: c.systemType, systemAddress: c.systemAddress, componentType: 128, address: { zone: c.address.zone, position: c.address.position } };
      return { command: Command.response, data: { type: 3, objects: [{ ...comp, analogType: 5, value: 312, time: now }, { ...comp, analogType: 3, value: 215, time: now }] } };
    };
    const now = new Date();
    const r = await duty.post('/api/v1/devices/cc-uitd/gb26875/commands', { command: 'read_analog', systemType: 11, systemAddress: 1, zone: 3, position: 7 });
    expect(r.status).toBe(200);
    const f = uitd.commands.at(-1)!;
    expect(f.command).toBe(Command.request);
    expect(decodeAppData(f.appData)).toMatchObject({ ok: true, appData: { type: 63, objects: [{ systemType: 11, systemAddress: 1, address: { zone: 3, position: 7 } }] } });
    expect(r.body).toMatchObject({
      outcome: 'answered',
      target: { systemType: 11, systemAddress: 1, zone: 3, position: 7 },
      answer: { values: [expect.objectContaining({ analogType: 5, value: 312 }), expect.objectContaining({ analogType: 3, value: 215 })] },
    });
    // without the component it cannot be asked
    expect((await send('read_analog')).status).toBe(400);
    uitd.answer = () => ({ command: Command.confirm });
  });

  it('a deny, an answer of the wrong type, and a UITD that never answers: 3 tries with one serial, then timeout', async () => {
    uitd.answer = () => ({ command: Command.deny });
    expect((await send('read_status')).body).toMatchObject({ outcome: 'denied', attempts: 1 });
    uitd.answer = () => ({ command: Command.confirm }); // a confirm where a response was asked for
    expect((await send('read_version')).body).toMatchObject({ outcome: 'unexpected', answer: null });
    uitd.answer = () => 'silent';
    const n = uitd.commands.length;
    const r = await send('read_status');
    expect(r.body).toMatchObject({ outcome: 'timeout', attempts: 3, answeredAt: null });
    const tries = uitd.commands.slice(n);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((f) => f.serial))).toEqual(new Set([r.body.serial]));
    uitd.answer = () => ({ command: Command.confirm });
  });

  it('the history is on the device (newest first); an operator may read it but not send; a UITD not connected is not_connected', async () => {
    const h = (await duty.get('/api/v1/devices/cc-uitd/gb26875/commands')).body.items as Array<{ command: string; outcome: string }>;
    expect(h.slice(0, 3).map((x) => [x.command, x.outcome])).toEqual([
      ['read_status', 'timeout'],
      ['read_version', 'unexpected'],
      ['read_status', 'denied'],
    ]);
    expect((await svc.api.post('/api/v1/users', { username: 'wu.ops', password: 'operator-pass-1', role: 'operator', buildingIds: ['cc-b'] })).status).toBe(201);
    const op = await new ApiClient(svc.fw.httpUrl, undefined).post('/api/v1/auth/login', { username: 'wu.ops', password: 'operator-pass-1' });
    const operator = new ApiClient(svc.fw.httpUrl, op.body.token as string);
    expect((await operator.get('/api/v1/devices/cc-uitd/gb26875/commands')).status).toBe(200);
    expect((await send('clock_sync', operator)).status).toBe(403);
    expect((await send('reboot')).status).toBe(400);
    uitd.close();
    await waitFor(async () => ((await send('clock_sync')).body.outcome === 'not_connected') || undefined, 'not_connected once the UITD is gone');
  });
});
