/**
 * The worked frames of docs/gb26875-gateway.md ("Commands to UITDs") are what Firewatch sends a
 * UITD and makes of its answer: each command goes through the API to a fake UITD on a manual
 * clock; the bytes the UITD receives must be the doc's `>` frame, the UITD answers with the doc's
 * `<` frame, and the API's outcome must be the doc's. So the doc cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../services/shared/clock.js';
import { FakeUitd, UITD } from '../support/fake-uitd.js';
import { startService, type TestService } from '../support/service.js';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'gb26875-gateway.md');
const T0 = Date.UTC(2026, 5, 1, 2, 0, 0); // 10:00:00 CST

interface Worked {
  title: string;
  command: string;
  request: string;
  answer: Buffer;
  outcome: unknown;
}

function workedFrames(): Worked[] {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('### Commands to UITDs'), text.indexOf('## Security'));
  const out: Worked[] = [];
  const re = /^#### (.+\(`(\w+)`.*)\n+```\n> ([0-9A-F ]+)\n< ([0-9A-F ]+)\n```\n+Outcome: `(.+)`$/gm;
  for (let m = re.exec(section); m; m = re.exec(section)) {
    out.push({ title: m[1]!, command: m[2]!, request: m[3]!, answer: Buffer.from(m[4]!.replace(/ /g, ''), 'hex'), outcome: JSON.parse(m[5]!) });
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');

let svc: TestService;
let uitd: FakeUitd;

beforeAll(async () => {
  svc = await startService({ GB26875_PORT: '0', GB26875_COMMAND_TIMEOUT_MS: '1000' }, undefined, { clock: new ManualClock(T0) });
  await svc.api.post('/api/v1/buildings', { id: 'w-b', name: '来福士', street: '朝天门', type: 'public', heightM: 90, use: 'complex' });
  expect((await svc.api.post('/api/v1/devices', { id: 'w-uitd', buildingId: 'w-b', kind: 'uitd', address: UITD, reportIntervalS: 30, inService: true })).status).toBe(201);
  uitd = await FakeUitd.open(svc.fw.gb26875Port!);
  await uitd.heartbeat();
});
afterAll(async () => {
  uitd?.close();
  await svc?.stop();
});

describe("docs/gb26875-gateway.md: commands to UITDs, worked frames", () => {
  const frames = workedFrames();

  it('the doc has a worked frame for each command the duty room can send, in order', () => {
    expect(frames.map((f) => f.command)).toEqual(['clock_sync', 'duty_check', 'read_status', 'read_version', 'read_config', 'read_time', 'read_analog']);
  });

  it.each(frames.map((f, i) => [f.title, i] as const))('%s: the frame sent and the outcome are the ones in the doc', async (_title, i) => {
    const f = frames[i]!;
    uitd.answer = () => ({ raw: f.answer });
    // read_analog names the doc's component: system type 11, system address 1, zone 3, position 7
    const target = f.command === 'read_analog' ? { systemType: 11, systemAddress: 1, zone: 3, position: 7 } : {};
    const r = await svc.api.post('/api/v1/devices/w-uitd/gb26875/commands', { command: f.command, ...target });
    expect(r.status).toBe(200);
    expect(hex(uitd.raw.at(-1) ?? Buffer.alloc(0))).toBe(f.request);
    expect({ outcome: r.body.outcome, answer: r.body.answer }).toEqual(f.outcome);
  });
});
