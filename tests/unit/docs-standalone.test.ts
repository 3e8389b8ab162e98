/**
 * The repository stands on its own.
 *
 * 1. No file points outside the repository for its facts: no file names the old briefing file, and
 *    every relative path that climbs into a `shared` folder lands on something that exists inside
 *    the repository (code imports of `services/shared/*` do; a link to a sibling checkout does not).
 * 2. Every "fact N" and every protocol section "§1.x" cited in services/, gateway/, README.md and
 *    docs/ has its entry in docs/standards.md ("#### N. …" or "- **N.** …"; "### §1.x …").
 * 3. docs/standards.md links only to files that exist.
 *
 * Files are those git knows (tracked, plus untracked ones not ignored), without package-lock.json
 * and node_modules/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const STANDARDS = 'docs/standards.md';
/** The name of the external briefing, assembled so that this file does not contain it. */
const BRIEFING = ['domain', 'facts'].join('-');

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && f !== 'package-lock.json' && !f.startsWith('node_modules/') && !f.includes('/node_modules/'))
  .filter((f, i, all) => all.indexOf(f) === i)
  .filter((f) => existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile());

const text = (f: string): string => readFileSync(join(ROOT, f), 'utf8');

/** "file:line: text" for every line of `f` where `find` matches. */
function hits(f: string, find: (line: string) => boolean): string[] {
  return text(f)
    .split('\n')
    .flatMap((line, i) => (find(line) ? [`${f}:${i + 1}: ${line.trim()}`] : []));
}

/** A relative path climbing into a `shared` folder resolves to an existing file inside the repository. */
function staysInside(f: string, ref: string): boolean {
  const target = resolve(ROOT, dirname(f), ref.replace(/[.]+$/, ''));
  const rel = relative(ROOT, target);
  if (rel.startsWith('..') || isAbsolute(rel)) return false;
  return [target, target.replace(/\.js$/, '.ts'), `${target}.ts`].some((p) => existsSync(p));
}

const SHARED_REF = /(?:\.\.\/)+shared\b[\w./-]*/g;
/** The absolute location of the old briefing's folder, assembled likewise. */
const OUTSIDE = ['', 'work', 'shared'].join('/');

describe('no file refers outside the repository for its facts', () => {
  it('no file names the old briefing file', () => {
    const found = files.flatMap((f) => hits(f, (line) => line.includes(BRIEFING)));
    expect(found, `replace these with a reference to ${STANDARDS}`).toEqual([]);
  });

  it('every relative path into a shared folder resolves to an existing file inside the repository', () => {
    const found = files.flatMap((f) =>
      hits(f, (line) => [...line.matchAll(SHARED_REF)].some((m) => !staysInside(f, m[0])) || line.includes(OUTSIDE)),
    );
    expect(found, `these point outside the repository; the facts are in ${STANDARDS}`).toEqual([]);
  });

  it('every Markdown document a file names exists in the repository (by file name)', () => {
    const names = new Set(files.filter((f) => f.endsWith('.md')).map((f) => f.split('/').pop()!));
    const MD = /([\w-]+\.md)\b/g;
    const found = files
      .filter((f) => !f.endsWith('.json') && !f.endsWith('.csv') && !f.endsWith('.jsonl'))
      .flatMap((f) => hits(f, (line) => [...line.matchAll(MD)].some((m) => !names.has(m[1]!))));
    expect(found, 'these cite documents that are not in the repository: write the facts into docs/ and cite that').toEqual([]);
  });
});

// ---- citations → entries -------------------------------------------------------------------

/** A fact number (not the start of a decimal such as 0.50) or a section "§1.2". */
const TOKEN = String.raw`(?:§\d+(?:\.\d+)?|\d+(?![.]\d|\d))`;
const LIST = String.raw`${TOKEN}(?:\s*(?:,|\/|–|-|and|&)\s*${TOKEN})*`;
/** "fact 41", "facts 41, 51", "facts 30/33/35", "facts 13–15", "fact §1.10", "standards.md §2–§4". */
const CITATION = new RegExp(String.raw`(?:\bfacts?|standards\.md)\s+(${LIST})`, 'gi');
/** Bare protocol sections ("§1.7 note"), except in lines about MQTT or RFC clauses. */
const PROTOCOL_SECTION = /§(1\.\d+)\b/g;

interface Cited {
  facts: Map<number, string[]>;
  sections: Map<string, string[]>;
}

function citations(files: readonly string[]): Cited {
  const facts = new Map<number, string[]>();
  const sections = new Map<string, string[]>();
  const add = <K>(m: Map<K, string[]>, k: K, where: string): void => void m.set(k, [...(m.get(k) ?? []), where]);
  for (const f of files) {
    text(f)
      .split('\n')
      .forEach((line, i) => {
        const where = `${f}:${i + 1}`;
        for (const m of line.matchAll(CITATION)) {
          const parts = m[1]!.split(/\s*(,|\/|–|-|and|&)\s*/i);
          // parts: token, sep, token, sep, …; a "–" or "-" between two numbers is a range
          for (let k = 0; k < parts.length; k += 2) {
            const tok = parts[k]!;
            if (tok.startsWith('§')) {
              add(sections, tok.slice(1), where);
              continue;
            }
            const n = Number(tok);
            const prev = k >= 2 ? parts[k - 2]! : '';
            if ((parts[k - 1] === '–' || parts[k - 1] === '-') && /^\d+$/.test(prev)) {
              for (let x = Number(prev) + 1; x <= n; x++) add(facts, x, where);
            } else add(facts, n, where);
          }
        }
        if (!/MQTT|RFC/.test(line)) for (const m of line.matchAll(PROTOCOL_SECTION)) add(sections, m[1]!, where);
      });
  }
  return { facts, sections };
}

const standards = text(STANDARDS);
const factEntries = new Set(
  [...standards.matchAll(/^(?:#{2,6}\s+(\d+)\.\s|[-*]\s+\*\*(\d+)\.\*\*)/gm)].map((m) => Number(m[1] ?? m[2])),
);
const sectionEntries = new Set([...standards.matchAll(/^#{2,6}\s+§(\d+(?:\.\d+)?)\s/gm)].map((m) => m[1]!));

const inScope = files.filter(
  (f) => f !== STANDARDS && (f === 'README.md' || /^(services|gateway|docs)\//.test(f)) && /\.(ts|js|mjs|md|json)$/.test(f),
);
const cited = citations(inScope);

describe(`every fact cited in services/, gateway/, README.md and docs/ is in ${STANDARDS}`, () => {
  it('finds citations at all (the scan works)', () => {
    expect(cited.facts.size).toBeGreaterThan(20);
    expect(cited.facts.has(41)).toBe(true);
    expect(cited.sections.has('1.10')).toBe(true);
  });

  it('each "fact N" has an entry N.', () => {
    const missing = [...cited.facts].filter(([n]) => !factEntries.has(n)).map(([n, where]) => `fact ${n}: ${where.join(', ')}`);
    expect(missing).toEqual([]);
  });

  it('each cited section §N.M has a heading', () => {
    const missing = [...cited.sections].filter(([s]) => !sectionEntries.has(s)).map(([s, where]) => `§${s}: ${where.join(', ')}`);
    expect(missing).toEqual([]);
  });

  it('keeps the numbering: entries are unique and every section heading §1.1–§1.12, §2–§5 exists', () => {
    const numbers = [...standards.matchAll(/^(?:#{2,6}\s+(\d+)\.\s|[-*]\s+\*\*(\d+)\.\*\*)/gm)].map((m) => Number(m[1] ?? m[2]));
    expect(numbers.length).toBe(new Set(numbers).size);
    const expected = ['1', ...Array.from({ length: 12 }, (_, i) => `1.${i + 1}`), '2', '3', '4', '5'];
    expect(expected.filter((s) => !sectionEntries.has(s))).toEqual([]);
  });
});

describe(`${STANDARDS} links`, () => {
  it('relative links point at files that exist', () => {
    const links = [...standards.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^(https?:|#|mailto:)/.test(l));
    const broken = links.filter((l) => !existsSync(resolve(ROOT, 'docs', l.split('#')[0]!)));
    expect(broken).toEqual([]);
  });
});
