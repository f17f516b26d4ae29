/** YAML parsed in steps (time-slices.ts), for the policy test cases a reload reads. */
import { Composer, Lexer, Parser, parse as parseYaml, type CST } from 'yaml';
import type { Steps } from './time-slices.js';

/**
 * The value of a YAML text, lexed and parsed one lexeme per step (most of the time a parse
 * takes: about 0.1 ms per case); only composing the document is one step. Anything but one
 * clean document (an error, a warning, several documents) is handed to `parseYaml`, so
 * values, errors and their messages are exactly parseYaml's.
 */
export function* yamlSteps(text: string): Steps<unknown> {
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    yield;
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  const docs = [...new Composer().compose(tokens, true, text.length)];
  const [doc] = docs;
  if (docs.length !== 1 || !doc || doc.errors.length > 0 || doc.warnings.length > 0) return parseYaml(text) as unknown;
  return doc.toJS() as unknown;
}
