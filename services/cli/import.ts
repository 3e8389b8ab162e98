/**
 * `firewatch import buildings <file.csv>`: send the district market survey to a running
 * Firewatch (POST /api/v1/import/buildings) in chunks, with a progress bar on stderr (when it is
 * a terminal) and a per-row error report. Talks HTTP only, like any other client.
 *
 * Rows are numbered by the line of the file where they start, also across chunks: each chunk
 * repeats the header, and the server's line numbers are mapped back to the file's.
 * Exit codes: 0 every row imported; 1 a row failed or the file was refused; 2 usage, an
 * unreadable file, the API unreachable, or the token refused.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadClientConfig } from '../config/config.js';
import { decodeCsvBytes, parseCsv, stringifyCsv, type CsvRecord } from '../shared/csv.js';
import { findHeaderIndex, isBlankRecord } from '../import/survey-csv.js';

export const summary = 'import buildings from the district survey CSV into a running Firewatch';

const DEFAULT_CHUNK = 200;

export function help(): string {
  return `Usage: firewatch import buildings <file.csv> [--api URL] [--token T] [--chunk N]

Imports buildings from the district market survey (annex 1.3.2: 序号, 商市场名称, 地址, 联系人, 电话,
面积, 该市场所在建筑名称, 该市场所在建筑的总层数, 是否设置火灾自动报警系统, …, 所属街道, 备注).
The file may be UTF-8 (with or without BOM) or GB18030/GBK as Excel saves it. A row whose name
and street already exist updates that building. A bad row never stops the good ones; each is
reported with its line number and reasons.

Options:
  --api URL     the Firewatch HTTP API [env FIREWATCH_API, default http://127.0.0.1:8080]
  --token T     an admin token [env FIREWATCH_TOKEN]
  --chunk N     rows per request [default ${DEFAULT_CHUNK}]

Exit status: 0 all rows imported; 1 some row failed or the file was refused; 2 usage error,
unreadable file, API unreachable or token refused.
`;
}

interface RowError {
  field: string | null;
  zh: string;
  en: string;
}
interface Failed {
  row: number;
  name: string | null;
  errors: RowError[];
}
interface ImportAnswer {
  created: number;
  updated: number;
  failed: Failed[];
}

class Progress {
  private readonly tty = process.stderr.isTTY === true;
  constructor(private readonly total: number) {}
  update(done: number): void {
    if (!this.tty) return;
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
    process.stderr.write(`\r导入 importing [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${this.total}`);
  }
  end(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

function fail(message: string, code = 2): number {
  process.stderr.write(`firewatch import: ${message}\n`);
  return code;
}

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { api: { type: 'string' }, token: { type: 'string' }, chunk: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${help()}`);
  }
  if (parsed.values.help) {
    process.stdout.write(help());
    return 0;
  }
  const [what, file, ...extra] = parsed.positionals;
  if (what !== 'buildings' || file === undefined || extra.length > 0) return fail(`expected: import buildings <file.csv>\n\n${help()}`);
  const env = loadClientConfig();
  const api = (parsed.values.api ?? env.api).replace(/\/+$/, '');
  const token = parsed.values.token ?? env.token;
  if (!token) return fail('no token: pass --token or set FIREWATCH_TOKEN (an admin token)');
  const chunkSize = parsed.values.chunk === undefined ? DEFAULT_CHUNK : Number(parsed.values.chunk);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) return fail('--chunk must be a positive integer');

  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  const { records, error } = parseCsv(decodeCsvBytes(bytes).text);
  const failed: Failed[] = [];
  const complete = error ? records.slice(0, -1) : records;
  if (error) {
    const broken = records[records.length - 1];
    failed.push({
      row: broken?.line ?? error.line,
      name: null,
      errors: [{ field: null, zh: `第 ${error.line} 行的引号没有闭合`, en: `the quote opened on line ${error.line} is never closed` }],
    });
  }
  const headerIndex = findHeaderIndex(complete);
  const header = complete[headerIndex];
  if (!header) return fail('找不到表头 / no header with the survey\'s column names (所属街道, 商市场名称, …) in the first lines', 1);
  const rows = complete.slice(headerIndex + 1).filter((r) => !isBlankRecord(r));

  const total = { created: 0, updated: 0 };
  const progress = new Progress(rows.length);
  progress.update(0);
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize);
    const body = stringifyCsv([header.fields, ...chunk.map((r) => r.fields)]);
    let res: Response;
    try {
      res = await fetch(`${api}/api/v1/import/buildings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv; charset=utf-8' },
        body,
      });
    } catch (err) {
      progress.end();
      return fail(`cannot reach ${api}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const answer = (await res.json().catch(() => ({}))) as Partial<ImportAnswer> & { detail?: string; code?: string };
    if (res.status === 401 || res.status === 403) {
      progress.end();
      return fail(`the API refused the token (${res.status} ${answer.code ?? ''}): an admin token is needed`);
    }
    if (res.status !== 200) {
      progress.end();
      return fail(`the API refused the file (${res.status} ${answer.code ?? ''}): ${answer.detail ?? ''}`, 1);
    }
    total.created += answer.created ?? 0;
    total.updated += answer.updated ?? 0;
    const lineMap = chunkLineMap(body, chunk);
    for (const f of answer.failed ?? []) failed.push({ ...f, row: lineMap.get(f.row) ?? f.row });
    progress.update(Math.min(rows.length, start + chunk.length));
  }
  progress.end();

  failed.sort((a, b) => a.row - b.row);
  const out: string[] = [
    `导入完成 / import finished: 新建 created ${total.created}, 更新 updated ${total.updated}, 失败 failed ${failed.length} (共 ${rows.length} 行 / rows)`,
  ];
  for (const f of failed) {
    out.push(`第 ${f.row} 行 / row ${f.row}${f.name ? `（${f.name}）` : ''}:`);
    for (const e of f.errors) out.push(`  - ${e.zh} / ${e.en}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return failed.length > 0 ? 1 : 0;
}

/** The chunk's line numbers (as the server counts them) → the file's. */
function chunkLineMap(chunkText: string, chunk: readonly CsvRecord[]): Map<number, number> {
  const map = new Map<number, number>();
  parseCsv(chunkText).records.slice(1).forEach((r, i) => {
    const original = chunk[i];
    if (original) map.set(r.line, original.line);
  });
  return map;
}
