/**
 * Incident scenarios: one building each, a script of what goes wrong, and the alerts a duty
 * officer must see, declared beside it in simulated seconds. `firewatch simulate --verify` holds
 * the service to them: each expected alert raised once, in time, and nothing else raised on the
 * scenario's devices.
 *
 * Rule durations are the service's, in real seconds; each scenario shortens them by its speed for
 * its own devices (`overrides`), so a 60 s "for" at speed 20 becomes 3 s. The lane dwell cannot go
 * below 60 s (the service's range, fact 55), so `lane-blocked` runs at speed 5 and takes about
 * 70 real seconds.
 */
import { ElectricalModel } from '../models/electrical.js';
import { LaneModel } from '../models/lane.js';
import type { LevelModel } from '../models/level.js';
import type { PressureModel } from '../models/pressure.js';
import { Prng } from '../prng.js';
import { electricalDevice, levelDevice, pressureDevice } from '../fleet.js';
import { scaled, type BuildingSpec, type DeviceSpec, type Scenario } from '../scenario.js';
import { COMPLEXES } from './yuzhong.js';

function complex(id: string): BuildingSpec {
  const c = COMPLEXES.find((x) => x[0] === id);
  if (!c) throw new Error(`no complex ${id}`);
  const [, name, street, heightM, floors, areaM2, address] = c;
  return { id, name, street, address, type: 'public', heightM, floors, areaM2, category: 1, use: 'complex', contactName: '消防控制室', contactPhone: '023-6300 0000' };
}

const pressure = (d: DeviceSpec) => d.model as PressureModel;

/** pipe-burst: a riser bursts in the IFC tower; the fire pump starts. */
export function pipeBurst(): Scenario {
  const b = complex('ifc');
  const ids = { top: 'sim-ifc-hydrant-top', pump: 'sim-ifc-pump-out', sprinkler: 'sim-ifc-sprinkler-end', tank: 'sim-ifc-tank' };
  return {
    name: 'pipe-burst',
    title: '解放碑英利国际金融中心 — 消火栓立管爆管',
    description: 'a hydrant riser bursts in a 288 m tower: the top-floor pressure collapses, the pump outlet drops, then the fire pump starts',
    speed: 20,
    durationS: 300,
    tsMode: 'wall',
    build: (seed) => ({
      buildings: [b],
      devices: [
        pressureDevice(seed, b, ids.top, 'hydrant_top', '62F 屋顶试验消火栓', 10, { staticMpa: 0.31, burstMpa: 0.04 }),
        pressureDevice(seed, b, ids.pump, 'pump_outlet', 'B3 消防泵房 出水管', 10, { staticMpa: 0.92, burstMpa: 0.55, firePumpMpa: 0.86 }),
        pressureDevice(seed, b, ids.sprinkler, 'sprinkler_end', '62F 末端试水装置', 10, { staticMpa: 0.18 }),
        levelDevice(seed, b, ids.tank, '屋顶消防水箱', 10, 4.2),
      ],
    }),
    overrides: (speed) => {
      const p = { pressure_low: { forS: scaled(60, speed), clearS: scaled(30, speed) }, pressure_drop: { windowS: scaled(60, speed, 5), clearS: scaled(60, speed) }, pressure_high: { forS: scaled(60, speed), clearS: scaled(30, speed) } };
      return { [ids.top]: p, [ids.pump]: p, [ids.sprinkler]: p };
    },
    script: [
      { atS: 120, incident: true, note: 'riser burst at 30F: pressure collapses above, pump outlet drops', run: (s) => {
        pressure(s.device(ids.top).spec).setMode('burst');
        pressure(s.device(ids.pump).spec).setMode('burst');
        (s.device(ids.tank).spec.model as LevelModel).drawdown(0.08);
      } },
      { atS: 150, incident: true, note: 'pressure switch starts the fire pump', run: (s) => pressure(s.device(ids.pump).spec).setMode('fire_pump') },
    ],
    expect: [
      { device: ids.top, rule: 'pressure_drop', class: 'hazard', afterS: 120, withinS: 30 },
      { device: ids.pump, rule: 'pressure_drop', class: 'hazard', afterS: 120, withinS: 30 },
      { device: ids.top, rule: 'pressure_low', class: 'hazard', afterS: 120, withinS: 60 + 40 },
    ],
  };
}

/** overheating: a loose terminal in a distribution board at Raffles City. */
export function overheating(): Scenario {
  const b = complex('raffles');
  const ids = { hot: 'sim-raffles-ef-b2', ok: 'sim-raffles-ef-l1', top: 'sim-raffles-hydrant-top' };
  return {
    name: 'overheating',
    title: '来福士购物中心 — 配电箱端子过热',
    description: 'a loose lug on channel 2 of a B2 distribution board heats steadily; the detector latches its own alarm',
    speed: 30,
    durationS: 360,
    tsMode: 'wall',
    build: (seed) => ({
      buildings: [b],
      devices: [
        { ...electricalDevice(seed, b, ids.hot, 'B2 配电室 2# 配电柜', 3, 30), model: new ElectricalModel({ channels: 3, startHour: 14 }, Prng.for(seed, ids.hot)) },
        { ...electricalDevice(seed, b, ids.ok, 'L1 商铺配电箱', 4, 30), model: new ElectricalModel({ channels: 4, startHour: 14 }, Prng.for(seed, ids.ok)) },
        pressureDevice(seed, b, ids.top, 'hydrant_top', '60F 屋顶试验消火栓', 30, { staticMpa: 0.28 }),
      ],
    }),
    overrides: (speed) => ({
      [ids.hot]: { temperature_high: { clearS: scaled(60, speed) }, residual_current_high: { clearS: scaled(60, speed) } },
      [ids.ok]: { temperature_high: { clearS: scaled(60, speed) }, residual_current_high: { clearS: scaled(60, speed) } },
    }),
    script: [
      { atS: 60, incident: true, note: 'channel 2 terminal starts overheating (+20 °C/min)', run: (s) => (s.device(ids.hot).spec.model as ElectricalModel).startOverheat(1, 20, 105) },
    ],
    // from about 30 °C: 80 °C (temperature_high) after ~150 s, the detector's own 85 °C setpoint after ~165 s
    expect: [
      { device: ids.hot, rule: 'temperature_high', class: 'hazard', afterS: 60, withinS: 240 },
      { device: ids.hot, rule: 'device_alarm', class: 'hazard', afterS: 60, withinS: 270 },
    ],
  };
}

/** lane-blocked: a car parks in the fire lane of the Metropolitan Plaza; a delivery van only stops. */
export function laneBlocked(): Scenario {
  const b = complex('metropolitan');
  const ids = { north: 'sim-metropolitan-lane-n', south: 'sim-metropolitan-lane-s' };
  const lane = (seed: number, id: string, location: string): DeviceSpec => ({
    id, buildingId: b.id, kind: 'fire_lane', location, reportIntervalS: 30, will: true,
    model: new LaneModel({ scriptedOnly: true }, Prng.for(seed, id)),
  });
  return {
    name: 'lane-blocked',
    title: '大都会东方广场 — 消防车道被占用',
    description: 'a private car parks in the north fire lane (must alert after the dwell time); a delivery van stops briefly in the south lane (must not)',
    speed: 5,
    durationS: 345,
    tsMode: 'wall',
    build: (seed) => ({ buildings: [b], devices: [lane(seed, ids.north, '北侧消防车道'), lane(seed, ids.south, '南侧消防车道')] }),
    overrides: (speed) => {
      const l = { lane_blocked: { forS: scaled(300, speed, 60, 600), clearS: scaled(30, speed) } };
      return { [ids.north]: l, [ids.south]: l };
    },
    script: [
      { atS: 10, note: 'delivery van stops in the south lane for 2 min', run: (s) => (s.device(ids.south).spec.model as LaneModel).occupy(10, 120) },
      { atS: 10, incident: true, note: 'a car parks in the north lane', run: (s) => (s.device(ids.north).spec.model as LaneModel).occupy(10, 3600) },
    ],
    expect: [{ device: ids.north, rule: 'lane_blocked', class: 'hazard', afterS: 10 + 300, withinS: 25 }],
  };
}

/** offline: a tank-level sensor loses its link, stays silent, then comes back with its backlog. */
export function offline(): Scenario {
  const b = complex('xinguang');
  const ids = { lost: 'sim-xg-tank-1', ok: 'sim-xg-tank-2' };
  const speed = 60;
  return {
    name: 'offline',
    title: '协信星光天地 — 水箱液位传感器离线',
    description: 'tank sensor 1 loses its 4G link (no will reaches the broker), is silent for 12 min, then reconnects and flushes its backlog as one JSON array',
    speed,
    durationS: 840,
    tsMode: 'wall',
    build: (seed) => ({
      buildings: [b],
      devices: [
        { ...levelDevice(seed, b, ids.lost, '1# 消防水池', 60, 3.9), will: false },
        { ...levelDevice(seed, b, ids.ok, '2# 消防水池', 60, 4.1), will: false },
      ],
    }),
    // offline after 3 report intervals; 180 s at speed 60 is 3 s, the service's floor is 10 s (600 sim s)
    overrides: (sp) => ({ [ids.lost]: { device_offline: { threshold: scaled(180, sp, 10) } }, [ids.ok]: { device_offline: { threshold: scaled(180, sp, 10) } } }),
    script: [
      { atS: 60, incident: true, note: 'tank 1 loses its link', run: (s) => s.device(ids.lost).goOffline() },
      { atS: 780, note: 'tank 1 is back and flushes its backlog', run: (s) => s.device(ids.lost).reconnect() },
    ],
    expect: [
      {
        device: ids.lost, rule: 'device_offline', class: 'fault', afterS: 60,
        // silence is measured from the last message (up to one interval before the cut), plus the 1 s rule tick
        withinS: Math.max(180, 10 * speed) + 2 * speed,
        clear: { afterS: 780, withinS: 60 },
      },
    ],
  };
}

/** stuck-sensor: a top-floor gauge whose diaphragm stuck: a maintenance fault, never a fire alarm. */
export function stuckSensor(): Scenario {
  const b = complex('jialing');
  const ids = { stuck: 'sim-jialing-hydrant-top', ok: 'sim-jialing-pump-out' };
  return {
    name: 'stuck-sensor',
    title: '嘉陵中心 — 屋顶压力表卡滞',
    description: 'the top-floor hydrant gauge reports 0.27 MPa unchanged every 30 min for 7 h (history replayed): sensor_fault, class fault, no hazard',
    speed: 3600,
    durationS: 7 * 3600 + 60,
    tsMode: 'history',
    build: (seed) => ({
      buildings: [b],
      devices: [
        pressureDevice(seed, b, ids.stuck, 'hydrant_top', '28F 屋顶试验消火栓', 1800, { staticMpa: 0.27 }),
        pressureDevice(seed, b, ids.ok, 'pump_outlet', 'B2 消防泵房', 1800, { staticMpa: 0.82 }),
      ],
    }),
    script: [{ atS: 0, incident: true, note: 'the top gauge is stuck at its last value', run: (s) => s.device(ids.stuck).setStuck(true) }],
    // default rule: unchanged for 6 h and at least 10 readings
    expect: [{ device: ids.stuck, rule: 'sensor_fault', class: 'fault', afterS: 6 * 3600, withinS: 1800 }],
  };
}

export const INCIDENTS = { 'pipe-burst': pipeBurst, overheating, 'lane-blocked': laneBlocked, offline, 'stuck-sensor': stuckSensor } as const;
