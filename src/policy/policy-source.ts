/**
 * Reads the security team's files: the Casbin model and the policy CSV (one file, or a
 * directory of *.csv files read in name order). Every rule keeps its file and line so that
 * `explain`, `check` and decision logs can point at it.
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TimeSlices } from './time-slices.js';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface PolicyRule {
  /** `p`, `g`, `g2`… as written in the first column. */
  readonly ptype: string;
  readonly values: readonly string[];
  readonly location: SourceLocation;
}

export interface PolicySource {
  readonly modelText: string;
  readonly modelFile: string;
  readonly rules: readonly PolicyRule[];
  readonly files: readonly string[];
  /** Content hash of model and rules: the policy version everywhere (logs, cache keys, explain). */
  readonly version: string;
}

export class PolicySourceError extends Error {
  constructor(
    readonly location: SourceLocation | { file: string },
    message: string,
  ) {
    super(message);
  }

  describe(): string {
    const where = 'line' in this.location ? `${this.location.file}:${this.location.line}` : this.location.file;
    return `${where}: ${this.message}`;
  }
}

/** The refusal of a bad effect; names a trailing comment when one is the cause (quoted values keep one). */
export function effectMessage(effect: string): string {
  const got = `effect must be "allow" or "deny", got "${effect}"`;
  return effect.includes('#') ? `${got}: ${TRAILING_COMMENT_MESSAGE}` : got;
}

/** Splits one CSV line on commas; double quotes may wrap a value that contains commas. */
export function splitCsvLine(line: string): string[] {
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (ch === ',' && !quoted) {
      values.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  values.push(current.trim());
  return values;
}

/**
 * One copy of each distinct value: 100,000 lines repeat "p", "subscribe", "allow" and their
 * subjects and patterns, and every split makes a new string of each; sharing them takes tens of
 * megabytes off a large policy's footprint.
 */
type Interner = Map<string, string>;
const intern = (strings: Interner, value: string): string => {
  const known = strings.get(value);
  if (known !== undefined) return known;
  strings.set(value, value);
  return value;
};

const TRAILING_COMMENT = /\s#/;
export const TRAILING_COMMENT_MESSAGE = 'trailing comments are not allowed: put the comment on its own line';

function parseLine(raw: string, index: number, file: string, rules: PolicyRule[], strings: Interner): void {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return;
  const location = { file, line: index + 1 };
  const quoted = line.includes('"');
  if (quoted && (line.match(/"/g)?.length ?? 0) % 2 !== 0) {
    throw new PolicySourceError(location, 'unbalanced double quote');
  }
  // Most lines have no quotes: a plain split makes far less garbage, which matters at 100k lines;
  // so does filling `values` in one loop rather than a map and a rest copy (they are kept).
  const fields = quoted ? splitCsvLine(line) : line.split(',');
  const ptype = intern(strings, (fields[0] as string).trim());
  const values = fields.slice(1);
  for (let i = 0; i < values.length; i++) values[i] = intern(strings, (values[i] as string).trim());
  // Casbin's CSV adapter keeps a trailing "# ..." as part of the last value; refuse it instead.
  if (!quoted && line.includes('#') && values.some((v) => TRAILING_COMMENT.test(v))) {
    throw new PolicySourceError(location, `${TRAILING_COMMENT_MESSAGE} (a line is a comment only when it starts with #)`);
  }
  if (!ptype || !/^[pg]\d*$/.test(ptype)) {
    throw new PolicySourceError(location, `line must start with a policy type like "p" or "g", got "${ptype ?? ''}"`);
  }
  rules.push({ ptype, values, location });
}

/**
 * The rules of one file. Throws at the first bad line, unless `onProblem` is given: then every
 * bad line is passed to it and skipped (`check` reports them all).
 */
export function parsePolicyText(text: string, file: string, onProblem?: (problem: PolicySourceError) => void): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const strings: Interner = new Map();
  text.split(/\r?\n/).forEach((raw, index) => {
    if (!onProblem) return parseLine(raw, index, file, rules, strings);
    try {
      parseLine(raw, index, file, rules, strings);
    } catch (err) {
      if (!(err instanceof PolicySourceError)) throw err;
      onProblem(err);
    }
  });
  return rules;
}

/**
 * The same as parsePolicyText, yielding every SLICE_MS: a 100,000-line reload must not stall
 * requests. Lines are cut one at a time and the text is hashed a slice at a time, since one
 * split or one hash of a multi-megabyte file is itself a pause of several milliseconds.
 */
async function parsePolicyTextInSlices(text: string, file: string, rules: PolicyRule[], strings: Interner, hash: Hash, slices: TimeSlices): Promise<void> {
  let hashedUpTo = 0;
  let lineIndex = 0;
  // Same lines as text.split(/\r?\n/), including the empty one after a final newline.
  for (let start = 0; start <= text.length; lineIndex++) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const crlf = newline !== -1 && end > start && text.charCodeAt(end - 1) === CR;
    parseLine(text.slice(start, crlf ? end - 1 : end), lineIndex, file, rules, strings);
    start = end + 1;
    if ((lineIndex & 127) === 127 && slices.spent()) {
      hash.update(text.slice(hashedUpTo, start));
      hashedUpTo = start;
      await slices.next();
    }
  }
  hash.update(text.slice(hashedUpTo));
}

const CR = 13;

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicySourceError({ file }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The CSV files behind `policy.policy`: the file itself, or every *.csv in the directory. */
export function policyFiles(policyPath: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(policyPath).isDirectory();
  } catch (err) {
    throw new PolicySourceError({ file: policyPath }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!isDirectory) return [policyPath];
  const files = readdirSync(policyPath)
    .filter((name) => name.endsWith('.csv'))
    .sort()
    .map((name) => join(policyPath, name));
  if (files.length === 0) throw new PolicySourceError({ file: policyPath }, 'directory holds no *.csv policy file');
  return files;
}

/** readPolicySource for the service's (re)loads: asynchronous reads and parsing in slices. */
export async function loadPolicySource(modelFile: string, policyPath: string): Promise<PolicySource> {
  const modelText = await readTextAsync(modelFile);
  const files = policyFiles(policyPath);
  const hash = createHash('sha256').update(modelText).update('\0');
  const rules: PolicyRule[] = [];
  const strings: Interner = new Map();
  for (const file of files) {
    const text = await readTextAsync(file);
    hash.update(basename(file)).update('\0');
    await parsePolicyTextInSlices(text, file, rules, strings, hash, new TimeSlices());
    hash.update('\0');
  }
  return { modelText, modelFile, rules, files: [modelFile, ...files], version: hash.digest('hex').slice(0, 12) };
}

async function readTextAsync(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicySourceError({ file }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function readPolicySource(modelFile: string, policyPath: string): PolicySource {
  const modelText = readText(modelFile);
  const files = policyFiles(policyPath);
  const hash = createHash('sha256').update(modelText).update('\0');
  const rules: PolicyRule[] = [];
  for (const file of files) {
    const text = readText(file);
    hash.update(basename(file)).update('\0').update(text).update('\0');
    rules.push(...parsePolicyText(text, file));
  }
  return { modelText, modelFile, rules, files: [modelFile, ...files], version: hash.digest('hex').slice(0, 12) };
}
