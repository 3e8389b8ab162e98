/**
 * `yuzhong`: the district as the 2023 plan describes it (docs/district-plan.md): the 15 large
 * complexes, high-rises over the 11 streets (residential and public, some over 100 m), markets
 * including the survey's sample rows, and the old compounds, each with the sensors the plan asks
 * for: high-rises get fire-lane, water-pressure and electrical-fire monitoring (annex 1.2),
 * complexes electrical-fire and water-pressure monitoring (1.4), markets electrical monitoring
 * (1.3), old compounds remote monitoring (1.5).
 *
 * The district's shape is fixed (stable ids across runs, so provisioning is idempotent); only the
 * signals depend on --seed. Streets of the complexes follow public addresses where known; the
 * generated high-rises, markets and compounds are believable, not surveyed.
 * A few sensors misbehave as real fleets do: a link that drops and flushes its backlog, a stuck
 * gauge, an out-of-range value, a malformed payload, a skewed clock, a duplicate send and a wrong
 * password; one hydrant system leaks.
 */
import type { PressureModel } from '../models/pressure.js';
import { Prng } from '../prng.js';
import { electricalDevice, laneDevice, levelDevice, pressureDevice } from '../fleet.js';
import type { BuildingSpec, DeviceControl, DeviceSpec, Fleet, Scenario, ScriptStep } from '../scenario.js';

export const STREETS = ['解放碑', '朝天门', '七星岗', '南纪门', '大溪沟', '上清寺', '两路口', '菜园坝', '化龙桥', '大坪', '石油路'] as const;

type C = [id: string, name: string, street: string, heightM: number, floors: number, areaM2: number, address: string];
/** The 15 large commercial complexes over 20,000 m² named in the plan (heights approximate). */
export const COMPLEXES: C[] = [
  ['yingli-zhuoyue', '英利卓越购物广场', '解放碑', 150, 38, 60_000, '民族路'],
  ['times-square', '重庆时代广场', '解放碑', 160, 43, 90_000, '邹容路68号'],
  ['metropolitan', '大都会东方广场', '解放碑', 180, 45, 120_000, '邹容路68号'],
  ['ifc', '解放碑英利国际金融中心', '解放碑', 288, 62, 180_000, '民权路28号'],
  ['wfc', '环球金融中心', '解放碑', 339, 72, 200_000, '民族路188号'],
  ['raffles', '来福士购物中心', '朝天门', 250, 60, 250_000, '朝天门广场'],
  ['longfor-ab', '龙湖时代天街 A/B馆', '大坪', 120, 32, 130_000, '大坪正街'],
  ['longfor-c', '龙湖时代天街 C馆', '大坪', 110, 30, 90_000, '大坪正街'],
  ['longfor-d', '龙湖时代天街 D馆', '大坪', 98, 26, 80_000, '大坪正街'],
  ['longfor-e', '龙湖时代天街 E馆', '大坪', 80, 20, 60_000, '大坪正街'],
  ['darong', '大融汇', '化龙桥', 100, 26, 80_000, '化龙桥片区'],
  ['fosun', '重庆复星国际中心', '朝天门', 220, 50, 120_000, '小什字'],
  ['ctm-darong', '朝天门大融汇', '朝天门', 60, 12, 70_000, '朝天门'],
  ['jialing', '嘉陵中心', '大溪沟', 110, 28, 60_000, '人民路'],
  ['xinguang', '协信星光天地', '大坪', 90, 22, 100_000, '大坪正街'],
];

/** Market survey sample rows (annex 1.3.2) and a few more markets. */
export const MARKETS: [id: string, name: string, street: string, floors: number, areaM2: number, address: string][] = [
  ['shibati', '十八梯综合大楼', '南纪门', 29, 1788, '十八梯'],
  ['jiefang-xilu-121', '解放西路121号住宅楼', '解放碑', 7, 1050, '解放西路121号'],
  ['jfb-civil-defence', '解放碑地下人防工程', '解放碑', 1, 530, '解放碑地下'],
  ['ctm-wholesale', '朝天门批发市场', '朝天门', 6, 36_000, '朝天门'],
  ['caiyuanba-fruit', '菜园坝水果市场', '菜园坝', 3, 12_000, '菜园坝'],
  ['daping-farmers', '大坪农贸市场', '大坪', 2, 5_600, '大坪'],
];

const HIGH_RISE_NAMES = ['国际大厦', '商务中心', '花园', '公寓', '金融大厦', '大酒店', '医院住院楼', '广场', '名苑'];

function highRises(): BuildingSpec[] {
  const rng = new Prng(2023); // fixed: the district's shape does not depend on --seed
  const out: BuildingSpec[] = [];
  STREETS.forEach((street, si) => {
    for (let i = 0; i < 3; i++) {
      const suffix = HIGH_RISE_NAMES[(si * 3 + i) % HIGH_RISE_NAMES.length]!;
      const residential = suffix === '花园' || suffix === '公寓' || suffix === '名苑';
      const tall = rng.chance(0.4);
      const heightM = Math.round(tall ? rng.uniform(101, 230) : rng.uniform(40, 99));
      const floors = Math.round(heightM / (residential ? 2.95 : 3.8));
      const use = residential ? 'residence' : suffix === '大酒店' ? 'hotel' : suffix === '医院住院楼' ? 'hospital' : 'office';
      out.push({
        id: `hr-${si + 1}-${i + 1}`,
        name: `${street}${suffix}`,
        street,
        address: `${street}街道`,
        type: residential ? 'residential' : 'public',
        heightM,
        floors,
        areaM2: Math.round(rng.uniform(15_000, 80_000)),
        category: residential ? null : heightM > 50 ? 1 : 2,
        use,
        contactName: '物业值班室',
        contactPhone: '023-6000 0000',
      });
    }
  });
  return out;
}

export function yuzhongBuildings(): BuildingSpec[] {
  const complexes: BuildingSpec[] = COMPLEXES.map(([id, name, street, heightM, floors, areaM2, address]) => ({
    id, name, street, address, type: 'public', heightM, floors, areaM2, category: 1, use: 'complex',
    contactName: '消防控制室', contactPhone: '023-6300 0000',
  }));
  const markets: BuildingSpec[] = MARKETS.map(([id, name, street, floors, areaM2, address]) => ({
    id: `mkt-${id}`, name, street, address, type: floors > 9 ? 'residential' : 'public', heightM: null, floors, areaM2,
    category: null, use: 'market', contactName: '市场管理处', contactPhone: null,
  }));
  const compounds: BuildingSpec[] = STREETS.map((street, i) => ({
    id: `oc-${i + 1}`, name: `${street}老旧小区 ${i + 1} 号院`, street, address: `${street}街道`, type: 'residential',
    heightM: 21, floors: 7, areaM2: 8000, category: null, use: 'old_compound', contactName: '社区网格员', contactPhone: null,
  }));
  return [...complexes, ...highRises(), ...markets, ...compounds];
}

function devicesFor(seed: number, b: BuildingSpec): DeviceSpec[] {
  const d: DeviceSpec[] = [];
  switch (b.use) {
    case 'complex':
      d.push(pressureDevice(seed, b, `${b.id}-hydrant-top`, 'hydrant_top', `${b.floors}F 屋顶试验消火栓`));
      d.push(pressureDevice(seed, b, `${b.id}-pump-out`, 'pump_outlet', 'B2 消防泵房 出水管'));
      d.push(pressureDevice(seed, b, `${b.id}-sprinkler-end`, 'sprinkler_end', `${b.floors}F 末端试水装置`));
      d.push(levelDevice(seed, b, `${b.id}-tank`, '屋顶消防水箱'));
      d.push(electricalDevice(seed, b, `${b.id}-ef-b1`, 'B1 配电室 主进线', 4));
      d.push(electricalDevice(seed, b, `${b.id}-ef-l3`, '3F 商铺配电箱', 3));
      d.push(laneDevice(seed, b, `${b.id}-lane`, '北侧消防车道'));
      break;
    case 'market':
      d.push(electricalDevice(seed, b, `${b.id}-ef`, '1F 总配电箱', 3));
      if ((b.areaM2 ?? 0) > 5000 || (b.floors ?? 0) > 9) d.push(pressureDevice(seed, b, `${b.id}-sprinkler-end`, 'sprinkler_end', '末端试水装置'));
      break;
    case 'old_compound':
      d.push(electricalDevice(seed, b, `${b.id}-ef`, '1 栋 电表箱', 1));
      d.push(pressureDevice(seed, b, `${b.id}-network`, 'network', '小区室外消火栓 市政管网'));
      break;
    default: {
      d.push(pressureDevice(seed, b, `${b.id}-hydrant-top`, 'hydrant_top', `${b.floors}F 屋顶试验消火栓`));
      d.push(levelDevice(seed, b, `${b.id}-tank`, '屋顶消防水箱'));
      d.push(electricalDevice(seed, b, `${b.id}-ef`, 'B1 配电室', b.type === 'residential' ? 2 : 3));
      d.push(laneDevice(seed, b, `${b.id}-lane`, '消防车道', 300, { dayPerH: b.type === 'residential' ? 3 : 5 }));
      if (b.type === 'public') d.push(pressureDevice(seed, b, `${b.id}-pump-out`, 'pump_outlet', 'B2 消防泵房'));
    }
  }
  return d;
}

function build(seed: number): Fleet {
  const buildings = yuzhongBuildings();
  return { buildings, devices: buildings.flatMap((b) => devicesFor(seed, b)) };
}

type Sim = Parameters<ScriptStep['run']>[0];
const ONE_SHOT_FAULTS: [string, (d: DeviceControl) => void][] = [
  ['out-of-range value', (d) => d.sendOutOfRange()],
  ['malformed JSON', (d) => d.sendMalformed()],
  ['clock 10 min ahead', (d) => d.sendSkewed(600)],
  ['duplicate send', (d) => d.duplicateNext()],
  ['wrong password', (d) => d.tryWrongCredentials()],
];

/** Faults on a few devices, picked from the seed; repeated every simulated hour. */
function faultScript(seed: number): ScriptStep[] {
  const ids = build(seed).devices.map((d) => d.id);
  const rng = Prng.for(seed, 'yuzhong-faults');
  const pick = () => rng.pick(ids);
  const steps: ScriptStep[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const base = hour * 3600;
    const offline = pick();
    const stuck = pick();
    steps.push(
      { atS: base + 20, note: `${offline}: link lost`, run: (s) => s.device(offline).goOffline() },
      { atS: base + 80, note: `${offline}: back, flushes its backlog`, run: (s) => s.device(offline).reconnect() },
      { atS: base + 30, note: `${stuck}: output stuck`, run: (s) => s.device(stuck).setStuck(true) },
      { atS: base + 1800, note: `${stuck}: output free again`, run: (s) => s.device(stuck).setStuck(false) },
      ...ONE_SHOT_FAULTS.map(([what, act], i) => {
        const id = pick();
        return { atS: base + 40 + i * 10, note: `${id}: ${what}`, run: (s: Sim) => act(s.device(id)) };
      }),
    );
  }
  return steps;
}

export function yuzhong(seed: number): Scenario {
  const leaky = 'hr-6-1-hydrant-top';
  return {
    name: 'yuzhong',
    title: '渝中区 — the whole district',
    description: 'the 15 complexes, high-rises on all 11 streets, markets and old compounds, streaming readings',
    speed: 60,
    durationS: undefined,
    tsMode: 'wall',
    build,
    script: [
      ...faultScript(seed),
      {
        atS: 60,
        note: `${leaky}: slow leak (more frequent jockey-pump starts)`,
        run: (s) => (s.device(leaky).spec.model as PressureModel).setMode('leak'),
      },
    ],
  };
}
