/**
 * The public safety-code page behind the QR code: one self-contained HTML document (inline CSS,
 * no script, no external resources), Chinese first with English below, times in Asia/Shanghai.
 * It shows the colour, the reasons for it, and what each colour means (the rules of
 * safety-code.ts, with this deployment's bounds). It receives only the public view, so it cannot
 * leak what it is not given.
 */
import { DEFAULT_SAFETY_BOUNDS, safetyRuleText, STATUS_WORDS, type SafetyBounds, type SafetyReason, type SafetyStatus } from '../../safety-code/safety-code.js';

export interface PublicSafetyCode {
  name: string;
  street: string;
  status: SafetyStatus;
  reasons: SafetyReason[];
  updatedAt: string;
}

const COLOURS: Record<SafetyStatus, { bg: string; fg: string }> = {
  green: { bg: '#1a7f37', fg: '#ffffff' },
  yellow: { bg: '#f2c200', fg: '#1f1f1f' },
  red: { bg: '#c62828', fg: '#ffffff' },
  grey: { bg: '#6b6b6b', fg: '#ffffff' },
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** "2026年11月29日 08:00:00" in Asia/Shanghai. */
export function shanghaiTime(iso: string): string {
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

const STYLE = `
  body { margin: 0; font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; background: #f5f5f5; color: #1f1f1f; }
  main { max-width: 34rem; margin: 0 auto; padding: 1rem; }
  .code { border-radius: 1rem; padding: 1.5rem 1rem; text-align: center; }
  .code h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
  .code p { margin: 0; }
  .dot { display: inline-block; width: 4.5rem; height: 4.5rem; border-radius: 50%; border: .35rem solid rgba(255,255,255,.85); margin-bottom: .5rem; }
  section { background: #fff; border-radius: .75rem; padding: 1rem; margin-top: 1rem; }
  h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  ul { margin: 0; padding-left: 1.2rem; }
  li { margin: .25rem 0; }
  .en { color: #555; font-size: .92rem; }
  .note { color: #555; }
  .note::before { content: "提示 · "; }
  .en .note::before { content: "Note · "; }
  .rules dt { font-weight: 600; margin-top: .6rem; }
  .rules dt.current { text-decoration: underline; }
  .rules dd { margin: .2rem 0 0 0; }
  .swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: 50%; vertical-align: -.1rem; margin-right: .35rem; }
  footer { color: #666; font-size: .85rem; margin-top: 1rem; text-align: center; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="60">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function reasonItem(r: SafetyReason, lang: 'zh' | 'en'): string {
  return `<li data-code="${escapeHtml(r.code)}" data-level="${escapeHtml(r.level)}"${r.level === 'info' ? ' class="note"' : ''}>${escapeHtml(r[lang])}</li>`;
}

/** What each colour means, from safety-code.ts: Chinese, or English. */
function rulesList(bounds: SafetyBounds, lang: 'zh' | 'en', current: SafetyStatus): string {
  return safetyRuleText(bounds)
    .map((rule) => {
      const cls = rule.status === current ? ' class="current"' : '';
      const items = rule[lang].map((line) => `<li>${escapeHtml(line)}</li>`).join('');
      return `<dt${cls}><span class="swatch" style="background:${COLOURS[rule.status].bg}"></span>${escapeHtml(STATUS_WORDS[rule.status][lang])}</dt><dd><ul>${items}</ul></dd>`;
    })
    .join('');
}

export function renderSafetyCodePage(c: PublicSafetyCode, bounds: SafetyBounds = DEFAULT_SAFETY_BOUNDS): string {
  const colour = COLOURS[c.status];
  const words = STATUS_WORDS[c.status];
  const time = shanghaiTime(c.updatedAt);
  const zhReasons = c.reasons.map((r) => reasonItem(r, 'zh')).join('');
  const enReasons = c.reasons.map((r) => reasonItem(r, 'en')).join('');
  return page(
    `${c.name} 消防安全码`,
    `<div class="code" style="background:${colour.bg};color:${colour.fg}" data-status="${c.status}">
  <span class="dot" style="background:${colour.bg}"></span>
  <h1>${escapeHtml(words.zh)}</h1>
  <p>${escapeHtml(c.name)} · ${escapeHtml(c.street)}街道</p>
</div>
<section lang="zh-CN">
  <h2>消防安全码</h2>
  <p>${escapeHtml(c.name)}（渝中区${escapeHtml(c.street)}街道）</p>
  <ul>${zhReasons}</ul>
  <p>更新时间：${escapeHtml(time)}（北京时间）</p>
</section>
<section lang="en" class="en">
  <h2>Fire-safety code</h2>
  <p>${escapeHtml(words.en)}. ${escapeHtml(c.name)}, ${escapeHtml(c.street)} street, Yuzhong district.</p>
  <ul>${enReasons}</ul>
  <p>Updated ${escapeHtml(time)} (China Standard Time, UTC+8).</p>
</section>
<section lang="zh-CN" class="rules" id="rules">
  <h2>安全码规则</h2>
  <p>安全码按最严重的一项定色：红码 &gt; 黄码 &gt; 灰码 &gt; 绿码。“提示”项不改变颜色。</p>
  <dl>${rulesList(bounds, 'zh', c.status)}</dl>
  <p>原因只写情况类别，不显示设备、位置或人员信息。</p>
</section>
<section lang="en" class="rules en">
  <h2>What the colours mean</h2>
  <p>The code takes the most serious colour among its reasons: red &gt; yellow &gt; grey &gt; green. Notes never change the colour.</p>
  <dl>${rulesList(bounds, 'en', c.status)}</dl>
  <p>Reasons name the kind of issue only, never a device, location or person.</p>
</section>
<footer>渝中区消防物联网监测 · Yuzhong fire-facility monitoring. 本页每分钟自动刷新 / refreshes every minute.</footer>`,
  );
}

export function renderNotFoundPage(): string {
  return page(
    '未找到 / Not found',
    `<section><h2>未找到该消防安全码</h2><p>二维码可能已失效，请联系建筑管理方。</p>
<p class="en" lang="en">This fire-safety code was not found. The QR code may be out of date; please ask the building's management.</p></section>`,
  );
}
