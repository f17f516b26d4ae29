/**
 * Backend teams add RPC routes by editing the config file: when it changes, it is loaded and
 * validated exactly as at start, and only `rpc.routes` is swapped in. A bad edit keeps the old
 * routes and logs why; changes to other keys are reported as needing a restart.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { FileWatcher } from '../core/file-watcher.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { RpcForwarder } from './forwarder.js';

export class RouteReloader {
  private watcher: FileWatcher | undefined;
  private current: Config;

  constructor(
    private readonly file: string,
    initial: Config,
    private readonly forwarder: RpcForwarder,
    private readonly log: Logger,
    private readonly onReload: (result: 'loaded' | 'unchanged' | 'failed') => void = () => undefined,
  ) {
    this.current = initial;
  }

  start(debounceMs: number): void {
    this.watcher = new FileWatcher([this.file], [], debounceMs, () => this.reload());
    this.watcher.start();
  }

  reload(): void {
    let next: Config;
    try {
      next = loadConfig(this.file).config;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      this.log.error({ problems }, 'config change refused; the current rpc routes stay');
      this.onReload('failed');
      return;
    }
    const { rpc: nextRpc, ...nextRest } = next;
    const { rpc: currentRpc, ...currentRest } = this.current;
    if (!isDeepStrictEqual(nextRest, currentRest)) this.log.warn('config changed outside rpc.routes: restart to apply those changes');
    if (isDeepStrictEqual(nextRpc.routes, currentRpc.routes)) {
      this.onReload('unchanged');
      return;
    }
    this.forwarder.replaceRoutes(nextRpc.routes);
    this.current = next;
    this.log.info({ routes: nextRpc.routes.length }, 'rpc routes reloaded');
    this.onReload('loaded');
  }

  stop(): void {
    this.watcher?.stop();
  }
}
