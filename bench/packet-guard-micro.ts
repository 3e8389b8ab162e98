/**
 * Micro-measurement of the packet guard (gateway/mqtt/packet-guard.ts) on the hot path: the cost
 * per chunk and per packet of following the fixed headers of a QoS 1 flood, beside what
 * mqtt-packet's parser (which aedes runs on every chunk anyway) costs for the same bytes.
 *
 *   node --import tsx bench/packet-guard-micro.ts
 *
 * Prints one line per chunk size. Nothing here is asserted anywhere; see bench/REPORT.md.
 */
import mqttPacket from 'mqtt-packet';
import { guardStream, PacketGuard } from '../gateway/mqtt/packet-guard.js';
import { PassThrough } from 'node:stream';
import { publishPacket, reading } from './load.js';

const LIMITS = { controlBytes: 4096, publishBytes: 65_536 + 1024 };

const one = (seq: number) => publishPacket('fire/v1/dev-bench-000123/telemetry', reading(100_000 + (seq % 800_000), 1_700_000_000_000), (seq % 65535) + 1);
const packetBytes = one(0).length;

/** `count` packets of the same size, so that cycling through chunks stays on packet boundaries */
function flood(count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, seq) => one(seq)));
}

function time(fn: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / iterations; // ns per call
}

for (const chunkSize of [1460, 16 * 1024, 64 * 1024]) {
  const data = flood(chunkSize); // chunkSize packets = packetBytes chunks of chunkSize
  const chunks: Buffer[] = [];
  for (let i = 0; i + chunkSize <= data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  const packetsPerChunk = chunkSize / packetBytes;

  const guard = new PacketGuard(LIMITS);
  guard.authenticated();
  let k = 0;
  const guardNs = time(() => {
    if (!guard.check(chunks[k++ % chunks.length]!)) throw new Error('refused');
  }, 200_000);

  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let packets = 0;
  parser.on('packet', () => packets++);
  let j = 0;
  const parseNs = time(() => parser.parse(chunks[j++ % chunks.length]!), Math.max(2000, Math.round(2_000_000 / packetsPerChunk / 10)));

  const r = (x: number) => Math.round(x);
  console.log(
    `chunk ${chunkSize} B (~${packetsPerChunk.toFixed(1)} packets of ${packetBytes} B): guard.check ${r(guardNs)} ns/chunk = ${(guardNs / packetsPerChunk).toFixed(1)} ns/packet; ` +
      `mqtt-packet parse ${r(parseNs)} ns/chunk = ${(parseNs / packetsPerChunk).toFixed(0)} ns/packet (guard = ${((guardNs / parseNs) * 100).toFixed(2)} % of it)`,
  );
}

// the read() wrapper itself: write + read of a 2-byte PINGREQ per call, plain and guarded, best of 5
const ping = Buffer.from([0xc0, 0x00]);
const plain = new PassThrough();
const guarded = new PassThrough();
guardStream(guarded, LIMITS, () => {
  throw new Error('refused');
}).authenticated();
const readNs = (s: PassThrough) =>
  time(() => {
    s.write(ping);
    s.read();
  }, 200_000);
const best = { plain: Infinity, guarded: Infinity };
for (let i = 0; i < 5; i++) {
  best.plain = Math.min(best.plain, readNs(plain));
  best.guarded = Math.min(best.guarded, readNs(guarded));
}
console.log(`read() of one small chunk: ${Math.round(best.plain)} ns plain, ${Math.round(best.guarded)} ns guarded (+${Math.round(best.guarded - best.plain)} ns per read)`);
