/**
 * Readings charts drawn as inline SVG (no library): one polyline per series, the alert
 * thresholds from GET /devices/:id/rules as dashed lines with their values.
 *
 * Each chart is drawn at the width it is shown at, one SVG unit to one CSS pixel, and redrawn when
 * that width changes (issue #17 item 8): its labels (0.75rem in console.css) are as large on a phone
 * as on a wall screen instead of shrinking with a fixed viewBox, and its margins follow the font size.
 */
import { h, replace, s } from './dom.js';
import { fmtTime, t } from './i18n.js';

const rootPx = () => parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 16;

function niceRange(min, max) {
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    return [min - d, max + d];
  }
  const pad = (max - min) * 0.1;
  return [min - pad, max + pad];
}

const fmtNum = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * series: [{ label, points: [{ t: epoch ms, v: number }] }]
 * thresholds: [{ value, label }]
 */
export function lineChart({ series, thresholds = [], unit = '', step = false, title = '', width = 640, height = 220, fontPx = 16 }) {
  const W = width;
  const H = height;
  const f = fontPx * 0.75; // the labels' size (console.css: 0.75rem)
  const PAD = { l: Math.max(58, Math.round(3.4 * f + 10)), r: 14, t: Math.round(1.4 * f + 4), b: Math.round(1.6 * f + 6) };
  const all = series.flatMap((x) => x.points);
  const ts = all.map((p) => p.t);
  const vs = [...all.map((p) => p.v), ...thresholds.map((x) => x.value)];
  let [t0, t1] = [Math.min(...ts), Math.max(...ts)];
  if (t0 === t1) [t0, t1] = [t0 - 60_000, t1 + 60_000];
  const [v0, v1] = niceRange(Math.min(...vs), Math.max(...vs));
  const x = (tm) => PAD.l + ((tm - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - ((v - v0) / (v1 - v0)) * (H - PAD.t - PAD.b);

  const grid = [];
  for (let i = 0; i <= 4; i++) {
    const v = v0 + ((v1 - v0) * i) / 4;
    grid.push(s('line', { class: 'grid', x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v) }));
    grid.push(s('text', { class: 'tick', x: PAD.l - 6, y: y(v) + 0.35 * f, 'text-anchor': 'end' }, fmtNum(v)));
  }
  const lines = series.map((ser, i) => {
    const pts = [...ser.points].sort((a, b) => a.t - b.t);
    const coords = [];
    pts.forEach((p, j) => {
      if (step && j > 0) coords.push(`${x(p.t).toFixed(1)},${y(pts[j - 1].v).toFixed(1)}`);
      coords.push(`${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    });
    return s(
      'g',
      { class: `series series-${i}` },
      s('polyline', { class: 'line', points: coords.join(' '), fill: 'none' }),
      pts.length <= 60 ? pts.map((p) => s('circle', { class: 'pt', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5 })) : null,
    );
  });
  const limits = thresholds.map((th) =>
    s(
      'g',
      { class: 'threshold', dataset: { value: String(th.value) } },
      s('line', { class: 'threshold-line', x1: PAD.l, x2: W - PAD.r, y1: y(th.value), y2: y(th.value) }),
      s('text', { class: 'threshold-label', x: W - PAD.r - 4, y: y(th.value) - 4, 'text-anchor': 'end' }, `${th.label} ${th.value} ${unit}`),
    ),
  );
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title} (${unit})`, preserveAspectRatio: 'xMidYMid meet' },
    s('title', {}, title),
    s('rect', { class: 'plot', x: PAD.l, y: PAD.t, width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b }),
    grid,
    limits,
    lines,
    s('text', { class: 'tick', x: PAD.l, y: H - 5 }, fmtTime(new Date(t0).toISOString())),
    s('text', { class: 'tick', x: W - PAD.r, y: H - 5, 'text-anchor': 'end' }, fmtTime(new Date(t1).toISOString())),
    // the unit and the legend above the plot, clear of the top tick
    s('text', { class: 'unit', x: 4, y: PAD.t - 0.45 * f - 2 }, unit),
    series.length > 1
      ? series.map((ser, i) => s('text', { class: `legend series-${i}`, x: PAD.l + 8 + i * 4 * f, y: PAD.t - 0.45 * f - 2 }, ser.label))
      : null,
  );
}

// one observer for every chart on the page: a chart is (re)drawn in the frame after its box got a new width
const drawers = new WeakMap();
const sizes = typeof window.ResizeObserver === 'function'
  ? new window.ResizeObserver((entries) => {
      for (const e of entries) {
        if (!e.target.isConnected) sizes.unobserve(e.target);
        else window.requestAnimationFrame(() => drawers.get(e.target)?.());
      }
    })
  : null;

/** A chart in a box that draws it at the box's own width (and a height that suits it). */
export function fittedChart(spec) {
  const box = h('div', { class: 'chart-fit' });
  let drawn = '';
  const draw = () => {
    const width = Math.floor(box.clientWidth);
    if (!width) return; // hidden (a closed tab, 显示更多): drawn once it is shown
    const fontPx = rootPx();
    const key = `${width}/${fontPx}`;
    if (key === drawn) return;
    drawn = key;
    const height = Math.round(Math.max(150 * (fontPx / 16), Math.min(width * 0.34, 260)));
    replace(box, lineChart({ ...spec, width, height, fontPx }));
  };
  drawers.set(box, draw);
  if (sizes) sizes.observe(box);
  else replace(box, lineChart(spec)); // no ResizeObserver: the fixed 640 × 220 drawing, scaled
  return box;
}

/** Charts for one device's readings (newest first, as the API returns them) and rules. */
export function deviceCharts(device, readings, rules) {
  const pts = (key) => readings.filter((r) => typeof r[key] === 'number').map((r) => ({ t: Date.parse(r.ts), v: r[key] }));
  const limit = (rule, label) => {
    const r = rules?.[rule];
    return r && r.enabled !== false && typeof r.threshold === 'number' ? [{ value: r.threshold, label }] : [];
  };
  const low = t('threshold') + '↓';
  const high = t('threshold') + '↑';
  const charts = [];
  switch (device.kind) {
    case 'water_pressure':
      charts.push({ series: [{ label: 'MPa', points: pts('pressureMpa') }], unit: 'MPa', thresholds: [...limit('pressure_low', low), ...limit('pressure_high', high)] });
      break;
    case 'water_level':
      charts.push({ series: [{ label: 'm', points: pts('levelM') }], unit: 'm', thresholds: [...limit('level_low', low), ...limit('level_high', high)] });
      break;
    case 'electrical_fire': {
      const rc = pts('residualCurrentMa');
      if (rc.length) charts.push({ series: [{ label: 'mA', points: rc }], unit: 'mA', thresholds: limit('residual_current_high', high) });
      const channels = Math.max(0, ...readings.map((r) => (Array.isArray(r.temperaturesC) ? r.temperaturesC.length : 0)));
      if (channels) {
        const series = [];
        for (let c = 0; c < channels; c++) {
          series.push({
            label: `T${c + 1}`,
            points: readings.filter((r) => typeof r.temperaturesC?.[c] === 'number').map((r) => ({ t: Date.parse(r.ts), v: r.temperaturesC[c] })),
          });
        }
        charts.push({ series, unit: '°C', thresholds: limit('temperature_high', high) });
      }
      break;
    }
    case 'fire_lane':
      charts.push({
        series: [{ label: t('f_occupied_series'), points: readings.filter((r) => typeof r.occupied === 'boolean').map((r) => ({ t: Date.parse(r.ts), v: r.occupied ? 1 : 0 })) }],
        unit: '0/1',
        step: true,
        thresholds: [],
      });
      break;
    default:
      break;
  }
  return charts.filter((c) => c.series.some((x) => x.points.length)).map((c) => fittedChart({ ...c, title: device.id }));
}
