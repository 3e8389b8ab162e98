/**
 * CSV as RFC 4180 describes it, plus what spreadsheets in China actually produce: a UTF-8 BOM,
 * CRLF or LF line ends, quoted fields with commas, quotes ("") and line breaks, and files saved
 * as GB18030/GBK by Excel and WPS ("CSV (逗号分隔)"). Pure, no I/O.
 *
 * Written here rather than taken from a library: the whole grammar is ~40 lines, and the import
 * needs to know which physical line each record starts on to report errors by row.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts */
  line: number;
  fields: string[];
}

export interface CsvParseResult {
  records: CsvRecord[];
  /** set when the text ends inside a quoted field; the last record is then incomplete */
  error?: { line: number; message: string };
}

/** Text of a CSV file's bytes: BOM → UTF-8; valid UTF-8 → UTF-8; otherwise GB18030 (a superset of GBK/GB2312). */
export function decodeCsvBytes(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gb18030' } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}

export function parseCsv(input: string): CsvParseResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let atFieldStart = true;
  const endRecord = () => {
    fields.push(field);
    records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    atFieldStart = true;
    recordLine = line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && atFieldStart) {
      quoted = true;
      quoteLine = line;
      atFieldStart = false;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      atFieldStart = true;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else {
      // a quote in the middle of an unquoted field is kept as text (lenient, as Excel is)
      field += c;
      atFieldStart = false;
    }
  }
  if (quoted) {
    endRecord();
    return { records, error: { line: quoteLine, message: 'a quoted field is not closed before the end of the file' } };
  }
  if (field !== '' || fields.length > 0) endRecord();
  return { records };
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) || field !== field.trim() ? `"${field.replace(/"/g, '""')}"` : field;
}

/** Records → CSV text with CRLF line ends (RFC 4180); no BOM (callers add one for Excel). */
/**
 * A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first) gets a leading
 * `'`, which Excel and WPS show as text (OWASP, "CSV Injection"). Plain numbers such as -0.05 stay
 * numbers. For files people open; not for CSV that a program reads back.
 */
export function neutraliseCell(value: string): string {
  if (!/^[=+\-@\t\r]/.test(value) || /^[+-]?\d+(\.\d+)?$/.test(value)) return value;
  return `'${value}`;
}

/** stringifyCsv for exports that people open in a spreadsheet: every cell neutralised. */
export function stringifyCsvForSpreadsheet(rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  return stringifyCsv(rows.map((r) => r.map((f) => (typeof f === 'string' ? neutraliseCell(f) : f))));
}

export function stringifyCsv(rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  return rows.map((r) => r.map((f) => quote(f === null || f === undefined ? '' : String(f))).join(',')).join('\r\n') + '\r\n';
}
