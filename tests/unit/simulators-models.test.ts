/** Sensor models of the simulators: deterministic from the seed, and believable signals. */
import { describe, expect, it } from 'vitest';
import { ElectricalModel } from '../../simulators/models/electrical.js';
import { LaneModel } from '../../simulators/models/lane.js';
import { LevelModel } from '../../simulators/models/level.js';
import { dailyLoad } from '../../simulators/models/model.js';
import { PressureModel } from '../../simulators/models/pressure.js';
import { Prng } from '../../simulators/prng.js';

const series = (sample: (t: number) => unknown, fromS: number, toS: number, everyS: number) => {
  const out: unknown[] = [];
  for (let t = fromS; t <= toS; t += everyS) out.push(sample(t));
  return out;
};
const pressures = (m: PressureModel, toS: number, everyS = 10) => series((t) => m.sample(t).pressureMpa as number, 0, toS, everyS) as number[];

describe('Prng (mulberry32)', () => {
  it('repeats for a seed, differs between seeds and between named streams', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.next())(new Prng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Prng.for(1, 'dev-a').next()).not.toBe(Prng.for(1, 'dev-b').next());
  });

  it('is uniform enough and its exponential has the asked mean', () => {
    const r = new Prng(7);
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    const e = Array.from({ length: 20_000 }, () => r.exponential(60));
    expect(e.reduce((s, x) => s + x, 0) / e.length).toBeGreaterThan(55);
    expect(e.reduce((s, x) => s + x, 0) / e.length).toBeLessThan(65);
  });
});

describe('determinism: the same --seed gives the same readings', () => {
  const run = (seed: number) => {
    const p = new PressureModel({ staticMpa: 0.3 }, Prng.for(seed, 'p'));
    const l = new LevelModel({ fullM: 4 }, Prng.for(seed, 'l'));
    const e = new ElectricalModel({ channels: 3 }, Prng.for(seed, 'e'));
    const lane = new LaneModel({}, Prng.for(seed, 'lane'));
    return series((t) => [p.sample(t), l.sample(t), e.sample(t), lane.sample(t)], 0, 6 * 3600, 60);
  };
  it('for every model', () => {
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('a lane looked at more often between reports follows the same trajectory', () => {
    const a = new LaneModel({ dayPerH: 20 }, new Prng(5));
    const b = new LaneModel({ dayPerH: 20 }, new Prng(5));
    const coarse = series((t) => a.sample(t), 0, 7200, 60);
    const fine: unknown[] = [];
    for (let t = 0; t <= 7200; t += 1) {
      const v = b.peek(t);
      if (t % 60 === 0) fine.push(v);
    }
    expect(fine).toEqual(coarse);
  });
});

describe('water pressure', () => {
  it('holds its static pressure with jockey-pump cycles (slow decay, quick rise), within the band', () => {
    const m = new PressureModel({ staticMpa: 0.3 }, new Prng(1));
    const xs = pressures(m, 24 * 3600);
    expect(Math.min(...xs)).toBeGreaterThan(0.26);
    expect(Math.max(...xs)).toBeLessThan(0.31);
    expect(m.jockeyStarts).toBeGreaterThan(10);
    // never a 0.05 MPa fall within a minute (the pressure_drop default) in normal running
    for (let i = 6; i < xs.length; i++) expect(Math.max(...xs.slice(i - 6, i)) - xs[i]!).toBeLessThan(0.05);
  });

  it('a slow leak starts the jockey pump more often', () => {
    const normal = new PressureModel({ staticMpa: 0.3 }, new Prng(2));
    const leaky = new PressureModel({ staticMpa: 0.3 }, new Prng(2));
    leaky.setMode('leak');
    pressures(normal, 6 * 3600);
    pressures(leaky, 6 * 3600);
    expect(leaky.jockeyStarts).toBeGreaterThan(normal.jockeyStarts * 4);
  });

  it('a burst drops fast, the fire pump raises it, a closed valve reads near 0', () => {
    const m = new PressureModel({ staticMpa: 0.31, burstMpa: 0.04, firePumpMpa: 0.5 }, new Prng(3));
    m.sample(600);
    m.setMode('burst');
    expect(m.sample(615).pressureMpa).toBeLessThan(0.1);
    m.setMode('fire_pump');
    expect(m.sample(660).pressureMpa).toBeGreaterThan(0.45);
    m.setMode('closed');
    expect(m.sample(720).pressureMpa).toBeLessThan(0.02);
    m.setMode('normal');
    expect(m.sample(1200).pressureMpa).toBeGreaterThan(0.27);
  });
});

describe('water level', () => {
  it('draws down and refills through the float valve; a stuck float does not refill', () => {
    const m = new LevelModel({ fullM: 4 }, new Prng(4));
    m.drawdown(0.1);
    const low = m.sample(600).levelM as number;
    expect(low).toBeLessThan(3.5); // the float valve refills slower than the draw
    m.drawdown(0);
    expect(m.sample(600 + 30 * 60).levelM as number).toBeGreaterThan(3.8);
    const stuck = new LevelModel({ fullM: 4 }, new Prng(4));
    stuck.setFloatStuck(true);
    stuck.drawdown(0.1);
    stuck.sample(600);
    stuck.drawdown(0);
    expect(stuck.sample(600 + 30 * 60).levelM as number).toBeLessThan(3.2);
  });
});

describe('electrical fire', () => {
  it('residual current follows the daily load within the normal 100–200 mA; temperatures follow load', () => {
    const m = new ElectricalModel({ channels: 4, startHour: 0, spikeEveryS: 1e12 }, new Prng(5));
    const rows = series((t) => m.sample(t), 0, 24 * 3600, 300) as { residualCurrentMa: number; temperaturesC: number[] }[];
    const ma = rows.map((r) => r.residualCurrentMa);
    expect(Math.min(...ma)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...ma)).toBeLessThanOrEqual(215);
    const at = (h: number) => rows[(h * 3600) / 300]!;
    expect(at(19).residualCurrentMa).toBeGreaterThan(at(4).residualCurrentMa);
    expect(Math.max(...at(19).temperaturesC)).toBeGreaterThan(Math.max(...at(4).temperaturesC));
    expect(rows.every((r) => r.temperaturesC.length === 4 && Math.max(...r.temperaturesC) < 60)).toBe(true);
    expect(dailyLoad(4)).toBeLessThan(dailyLoad(19.5));
  });

  it('spikes stay below the 300 mA default setpoint', () => {
    const m = new ElectricalModel({ channels: 1, spikeEveryS: 600 }, new Prng(6));
    const ma = series((t) => m.sample(t).residualCurrentMa as number, 0, 24 * 3600, 30) as number[];
    expect(Math.max(...ma)).toBeLessThan(300);
  });

  it('an overheating terminal heats one channel; the detector latches its alarm once', () => {
    const m = new ElectricalModel({ channels: 3 }, new Prng(7));
    m.sample(60);
    expect(m.takeEvents()).toEqual([]);
    m.startOverheat(1, 20, 105);
    const rows = series((t) => m.sample(t), 90, 600, 30) as { temperaturesC: number[] }[];
    expect(rows.at(-1)!.temperaturesC[1]).toBeGreaterThanOrEqual(100);
    expect(rows.at(-1)!.temperaturesC[0]).toBeLessThan(60);
    const events = m.takeEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ alarm: true, code: 'temperature_alarm' });
    m.sample(630);
    expect(m.takeEvents()).toEqual([]); // latched: said once
  });
});

describe('fire lane', () => {
  it('vehicles arrive as a Poisson process; most stop briefly, a few park', () => {
    const m = new LaneModel({ dayPerH: 6, nightPerH: 6, parkShare: 0.1 }, new Prng(8));
    m.peek(7 * 24 * 3600);
    const total = m.counts.stops + m.counts.parked;
    // a week at 6/h is 1008 arrivals, fewer counted while the lane is already taken
    expect(total).toBeGreaterThan(500);
    expect(total).toBeLessThan(1100);
    expect(m.counts.parked / total).toBeGreaterThan(0.05);
    expect(m.counts.parked / total).toBeLessThan(0.16);
  });

  it('a scripted stop occupies the lane for its duration only', () => {
    const m = new LaneModel({ scriptedOnly: true }, new Prng(9));
    m.occupy(10, 120);
    expect(m.peek(5).occupied).toBe(false);
    expect(m.peek(60).occupied).toBe(true);
    expect(m.peek(131).occupied).toBe(false);
  });
});
