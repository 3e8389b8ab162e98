/**
 * How the rules see a building's height, and what its operator should check or record
 * (issue #16 item 9). The 100 m line moves the top-hydrant minimum of a category-1 public building
 * from 0.10 to 0.15 MPa (GB 50974-2014 5.2.2, fact 41): only a measured height may cross it. An
 * estimate from floors (× 3.6 m; a survey import records floors only) is flagged instead, and so
 * is a measured height without the fire-engine access level it was measured from — on Yuzhong's
 * hillsides a building's height depends on which side it is measured from (GB 50016).
 */
import type { Building } from '../devices/model.js';
import { estimateHeightM, heightEstimateNeedsMeasuring, isOver100m } from './defaults.js';

export interface HeightView {
  basis: 'measured' | 'estimated' | 'unknown';
  usedM: number | null;
  over100m: boolean;
}

export interface BuildingCheck {
  code: 'height_estimate_over_100m' | 'height_estimated' | 'height_unknown' | 'access_level_missing' | 'type_from_survey';
  zh: string;
  en: string;
}

export function heightView(b: Building): HeightView {
  const used = estimateHeightM(b);
  return {
    basis: b.heightM !== null ? 'measured' : used !== null ? 'estimated' : 'unknown',
    usedM: used === null ? null : Math.round(used * 10) / 10,
    over100m: isOver100m(b),
  };
}

export function buildingChecks(b: Building): BuildingCheck[] {
  const out: BuildingCheck[] = [];
  const est = estimateHeightM(b);
  if (heightEstimateNeedsMeasuring(b)) {
    out.push({
      code: 'height_estimate_over_100m',
      zh: `按 ${b.floors} 层估算高度约 ${est!.toFixed(1)} m，超过 100 m 但未实测：规则按 100 m 以下判定；请录入自消防车登高操作场地起算的实测建筑高度`,
      en: `${b.floors} floors estimate about ${est!.toFixed(1)} m, over 100 m but not measured: the rules treat it as 100 m or lower; record the measured height from the fire-engine access level`,
    });
  } else if (b.heightM === null && est !== null) {
    out.push({ code: 'height_estimated', zh: `建筑高度按层数估算（约 ${est.toFixed(1)} m），请录入实测高度`, en: `height estimated from floors (about ${est.toFixed(1)} m); record the measured height` });
  } else if (est === null) {
    out.push({ code: 'height_unknown', zh: '建筑高度与层数均未登记：按高层建筑从严判定', en: 'neither height nor floors recorded: judged as a high-rise (the stricter)' });
  }
  if (b.heightM !== null && (b.accessLevelM ?? null) === null) {
    out.push({ code: 'access_level_missing', zh: '未登记建筑高度起算的消防车登高操作场地标高', en: 'the fire-engine access level the height is measured from is not recorded' });
  }
  if (b.survey) {
    out.push({ code: 'type_from_survey', zh: '由市场调查表导入：建筑类别按“公共建筑”登记，请核实（住宅与商业合建时另行判定）', en: 'imported from the market survey: recorded as a public building; verify it (a mixed residential-commercial building is classified separately)' });
  }
  return out;
}
