/**
 * What a child process writes, read as it comes without keeping all of it: a served process at
 * log level info writes a decision line per deny, hundreds of MB over a long soak, and keeping
 * and rescanning all of it made the soak's own client the bottleneck (its rate fell from 750 to
 * 90 requests/s and its RSS grew past 480 MB over 441,000 requests).
 */

/** The last `limit` to `2 * limit` characters, for failure messages. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = 256 * 1024) {}

  append(chunk: string): void {
    this.text += chunk;
    // Cut only once twice the limit is passed, so the copy is paid once per `limit` characters.
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(-this.limit);
  }

  toString(): string {
    return this.text;
  }
}

/**
 * Calls `onLine` with each complete line of a stream written in chunks (a line may be cut
 * between chunks); each chunk is scanned once, whatever came before it.
 */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
}

/** The pino level of a JSON log line (30 info, 40 warn, 50 error, 60 fatal), or undefined for any other line. */
export function pinoLevel(line: string): number | undefined {
  // pino writes the level first; reading it from the prefix spares parsing every decision line.
  const match = /^\{"level":(\d+)[,}]/.exec(line);
  return match ? Number(match[1]) : undefined;
}
