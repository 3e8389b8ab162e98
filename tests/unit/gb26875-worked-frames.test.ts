/**
 * The worked frames of docs/gb26875-gateway.md ("The centre's commands") are what Firewatch's
 * uplink client really answers: each `>` frame of the doc is sent to a real Gb26875UplinkClient
 * (on a manual clock, over loopback TCP) and its answer must be the doc's `<` frame, byte for byte.
 * So the doc cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, FrameSplitter, decodeFrame, encodeReply } from '../../services/protocols/gb26875/index.js';
import { ManualClock } from '../../services/shared/clock.js';
import { createLogger } from '../../services/shared/logger.js';
import { Gb26875UplinkClient } from '../../services/uplink/adapters/gb26875-adapter.js';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'gb26875-gateway.md');
/** 2026-06-01 10:00:00 China Standard Time */
const T0 = Date.UTC(2026, 5, 1, 2, 0, 0);

interface Worked {
  title: string;
  request: Buffer;
  answer: Buffer;
}

/** The doc's worked frames: a heading line `#### …`, then a fenced block with a `>` line and a `<` line of hex. */
function workedFrames(): Worked[] {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf("### The centre's commands"));
  const out: Worked[] = [];
  const re = /^#### (.+)\n+```\n> ([0-9A-F ]+)\n< ([0-9A-F ]+)\n```/gm;
  for (let m = re.exec(section); m; m = re.exec(section)) {
    out.push({ title: m[1]!, request: Buffer.from(m[2]!.replace(/ /g, ''), 'hex'), answer: Buffer.from(m[3]!.replace(/ /g, ''), 'hex') });
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');

let server: Server;
let client: Gb26875UplinkClient;
let socket: Socket;
const answers: Buffer[] = [];

beforeAll(async () => {
  const connected = new Promise<Socket>((resolve) => {
    server = createServer((s) => {
      const splitter = new FrameSplitter();
      s.on('data', (c: Buffer) => {
        for (const o of splitter.push(c)) {
          if (o.kind !== 'frame') continue;
          const d = decodeFrame(o.frame);
          if (!d.ok) continue;
          // our status announcement (and any heartbeat): confirmed, as a centre does
          if (d.frame.command === Command.send_data) s.write(encodeReply(d.frame, Command.confirm, new Date(T0)));
          else answers.push(Buffer.from(o.frame));
        }
      });
      resolve(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new Gb26875UplinkClient({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    sourceAddress: 123456,
    destinationAddress: 654321,
    timeoutMs: 2000,
    heartbeatMs: 3_600_000,
    clock: new ManualClock(T0),
    log: createLogger('silent'),
    softwareVersion: { major: 0, minor: 1 },
    configText: 'Firewatch 0.1.0 UITD 123456',
    // one hydrant-top gauge in pressure_low after 0.05 MPa, what the reads of facility data (61–68) see
    facility: () => [
      {
        id: 'hydrant-62f',
        kind: 'water_pressure',
        point: 'hydrant_top',
        active: [{ rule: 'pressure_low', class: 'hazard', cleared: false, kind: 'water_pressure', point: 'hydrant_top', deviceId: 'hydrant-62f' }],
        lastReading: { ts: new Date(T0 - 10_000).toISOString(), fields: { pressureMpa: 0.05 } },
      },
    ],
  });
  client.start();
  socket = await connected;
});

afterAll(async () => {
  client.close();
  await new Promise((r) => server.close(r));
});

describe("docs/gb26875-gateway.md: the centre's commands, worked frames", () => {
  const frames = workedFrames();

  it('the doc has a worked frame for each command the client serves (reads of facility data 61–68 too), and one it denies', () => {
    expect(frames.map((f) => f.title)).toEqual([
      'Clock sync (control 1, type 90)',
      'Initialisation (control 1, type 89)',
      'Duty check (control 1, type 91)',
      'Read the running status (request 4, type 81)',
      'Read the software version (request 4, type 85)',
      'Read the configuration (request 4, type 86)',
      'Read the system time (request 4, type 88)',
      'Read a system status (request 4, type 61 → 1)',
      'Read a component status (request 4, type 62 → 2)',
      "Read a component's analog values (request 4, type 63 → 3)",
      'Read the operation records (request 4, type 64 → 4)',
      "Read a system's software version (request 4, type 65 → 5)",
      "Read a system's configuration (request 4, type 66 → 6)",
      "Read a component's configuration (request 4, type 67 → 7)",
      "Read a system's time (request 4, type 68 → 8)",
      'A read it does not serve (request 4, type 84)',
    ]);
  });

  it.each(frames.map((f, i) => [f.title, i] as const))('%s: the answer is the one in the doc', async (_title, i) => {
    const f = frames[i]!;
    const before = answers.length;
    socket.write(f.request);
    for (let n = 0; answers.length === before && n < 200; n++) await new Promise((r) => setTimeout(r, 10));
    expect(hex(answers[before] ?? Buffer.alloc(0))).toBe(hex(f.answer));
  });
});
