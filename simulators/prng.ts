/**
 * Seeded pseudo-random numbers for the simulators: mulberry32 (a 32-bit state generator, fast and
 * good enough for signal noise, not for secrets). Every device gets its own stream derived from
 * the run seed and its id, so a device's readings do not depend on how many other devices run or
 * in which order the scheduler visits them.
 */

/** FNV-1a over a string: a stable 32-bit hash to derive per-device seeds. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** An independent stream for a named part (a device, a fault plan). */
  static for(seed: number, name: string): Prng {
    return new Prng(hash32(`${seed >>> 0}:${name}`));
  }

  /** uniform in [0, 1) — mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return Math.floor(this.uniform(min, maxInclusive + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** standard normal (Box–Muller), scaled */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** exponential waiting time with the given mean (Poisson process inter-arrival) */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

/** Round to `digits` decimals, as a sensor's display resolution does. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
