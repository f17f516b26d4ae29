/** The instrumented handler of every event, looked up by both transports. */
import type { EventName } from '../core/events.js';
import type { InstrumentedHandler } from '../core/instrument.js';

export type Dispatcher = { readonly [E in EventName]: InstrumentedHandler<E> };
