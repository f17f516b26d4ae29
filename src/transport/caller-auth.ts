/**
 * Centrifugo proves it is Centrifugo with a shared secret (HTTP static header, GRPC
 * credentials metadata). Compared in constant time over fixed-length digests, so neither the
 * content nor the length of the secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type CallerCheck = (presented: string | undefined) => boolean;

const digest = (value: string) => createHash('sha256').update(value).digest();

export function callerCheck(secret: string): CallerCheck {
  if (secret === '') return () => true;
  const expected = digest(secret);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}
