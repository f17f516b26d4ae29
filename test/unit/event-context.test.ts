/**
 * The event context (src/telemetry/tracing.ts): a chained context instead of the API's copied
 * map, so it must behave as a context for everything that reads one (the API's span helpers, the
 * W3C propagator that writes traceparent into upstream calls) and keep the event's notes.
 */
import assert from 'node:assert/strict';
import { createContextKey, defaultTextMapSetter, ROOT_CONTEXT, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { core } from '@opentelemetry/sdk-node';
import { describe, it } from 'node:test';
import { eventContext, eventNotes } from '../../src/telemetry/tracing.js';

const span = (spanId: string): Span => trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId, traceFlags: TraceFlags.SAMPLED });

describe('eventContext', () => {
  it('holds the span, keeps the parent values and gives each event notes of its own', () => {
    const inherited = createContextKey('inherited');
    const parent = ROOT_CONTEXT.setValue(inherited, 'from the parent');
    const event = span('b7ad6b7169203331');
    const ctx = eventContext(parent, event);
    assert.equal(trace.getSpan(ctx), event);
    assert.equal(ctx.getValue(inherited), 'from the parent');
    const notes = eventNotes(ctx);
    assert.ok(notes instanceof Map);
    assert.notEqual(eventNotes(eventContext(parent, event)), notes, 'notes are per event');
    assert.equal(eventNotes(parent), undefined);
    assert.equal(eventNotes(trace.setSpan(ROOT_CONTEXT, event)), undefined, 'a context made elsewhere has none');
  });

  it('a child span context sees the same notes; set and delete behave as on the API context', () => {
    const key = createContextKey('k');
    const ctx = eventContext(ROOT_CONTEXT, span('b7ad6b7169203331'));
    const child = span('00f067aa0ba902b7');
    const childCtx = trace.setSpan(ctx, child);
    assert.equal(trace.getSpan(childCtx), child);
    assert.equal(trace.getSpan(ctx)?.spanContext().spanId, 'b7ad6b7169203331', 'the parent is unchanged');
    assert.equal(eventNotes(childCtx), eventNotes(ctx));
    const set = childCtx.setValue(key, 1);
    assert.equal(set.getValue(key), 1);
    assert.equal(childCtx.getValue(key), undefined);
    assert.equal(set.deleteValue(key).getValue(key), undefined);
    assert.equal(trace.getSpan(trace.deleteSpan(childCtx)), undefined);
  });

  it('the W3C propagator writes the event span as traceparent', () => {
    const carrier: Record<string, string> = {};
    new core.W3CTraceContextPropagator().inject(eventContext(ROOT_CONTEXT, span('b7ad6b7169203331')), carrier, defaultTextMapSetter);
    assert.equal(carrier.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });
});
