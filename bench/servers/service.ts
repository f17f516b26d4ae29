// The service itself, on the shipped policies, with the in-process decision cache.
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig, DEFAULT_CONFIG_FILE } from '../../src/config/load.js';

const { config } = loadConfig(DEFAULT_CONFIG_FILE, { HTTP_PORT: process.env.PORT, GRPC_PORT: '0', LOG_LEVEL: 'silent' });
const app = buildApp(config, { log: pino({ level: 'silent' }) });
await app.start();
process.send?.('ready');
