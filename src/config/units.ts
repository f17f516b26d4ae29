/** Human units in config values: durations ("900ms", "30s", "5m", "1h") and sizes ("64kb", "1mb"). */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE = /^(\d+)(b|kb|mb)?$/i;
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * (DURATION_MS[m[2] as string] as number) : undefined;
}

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Number(m[1]) * (SIZE_BYTES[(m[2] ?? 'b').toLowerCase()] as number) : undefined;
}
