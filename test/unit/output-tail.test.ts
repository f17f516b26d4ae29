/**
 * How the tests and the soak read a served process's output: kept bounded and scanned once,
 * so a million-request soak at log level info costs its client the same per request at the end
 * as at the start.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineSplitter, OutputTail, pinoLevel } from '../helpers/output-tail.js';

describe('OutputTail', () => {
  it('keeps only the last characters, however much was written', () => {
    const tail = new OutputTail(1000);
    let last = '';
    for (let i = 0; i < 20_000; i++) {
      last = `{"msg":"decision","n":${i}}\n`;
      tail.append(last);
    }
    const kept = tail.toString();
    assert.ok(kept.length >= 1000 && kept.length <= 2000, `kept ${kept.length} characters`);
    assert.ok(kept.endsWith(`{"msg":"decision","n":19998}\n${last}`));
  });

  it('keeps everything below the limit', () => {
    const tail = new OutputTail(1000);
    tail.append('a\n');
    tail.append('b\n');
    assert.equal(tail.toString(), 'a\nb\n');
  });
});

describe('lineSplitter', () => {
  it('gives each complete line once, also a line cut between chunks, and holds back an unfinished one', () => {
    const lines: string[] = [];
    const scan = lineSplitter((line) => lines.push(line));
    for (const chunk of ['{"a":1}\n{"msg":"list', 'ening","http_port":1}\n', '{"b":', '2}\npart', 'ial']) scan(chunk);
    assert.deepEqual(lines, ['{"a":1}', '{"msg":"listening","http_port":1}', '{"b":2}']);
  });
});

describe('pinoLevel', () => {
  it("reads a pino line's level and nothing from other lines", () => {
    assert.equal(pinoLevel('{"level":50,"time":1,"msg":"decision timed out"}'), 50);
    assert.equal(pinoLevel('{"level":30,"msg":"decision"}'), 30);
    assert.equal(pinoLevel('{"msg":"x","level":50}'), undefined);
    assert.equal(pinoLevel('level 50'), undefined);
    assert.equal(pinoLevel(''), undefined);
  });
});
