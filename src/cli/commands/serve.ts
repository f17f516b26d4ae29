import { buildApp } from '../../app.js';
import { PolicySourceError } from '../../policy/policy-source.js';
import { PolicyRejected } from '../../policy/policy-store.js';
import { configFlag, loadOrReport, type CliCommand } from '../command.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: 'serve',
  summary: 'run the service',
  flags: {},
  async run(flags, out) {
    const loaded = loadOrReport(configFlag(flags), out);
    if (!loaded) return 1;
    const app = buildApp(loaded.config, { configFile: loaded.file });
    try {
      await app.start();
    } catch (err) {
      if (err instanceof PolicySourceError) out.error(err.describe());
      else if (err instanceof PolicyRejected) out.error(`policy refused: ${err.message}`);
      else out.error(`cannot start: ${(err as Error).message}`);
      await app.stop();
      return 1;
    }
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        app.log.info({ signal }, 'shutting down');
        resolve();
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
    await app.stop();
    app.log.info('stopped');
    return 0;
  },
};
