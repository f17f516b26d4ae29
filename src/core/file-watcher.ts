/**
 * Watches files (policy files, the config file) for changes. Editors and deploy tools replace
 * files by renaming a new one over the old, which ends a watch on the file itself, so the
 * folders are watched and events are filtered by name. Kubernetes mounts ConfigMaps and
 * Secrets as symlinks into a `..data` folder and updates them by swapping `..data` (through
 * `..data_tmp`): the files' own names never see an event, so those two names count as a change
 * of every file in the folder. Changes are debounced: one reload after the last write settles.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** The kubelet's atomic update of a ConfigMap or Secret volume. */
const KUBERNETES_SWAP = /^\.\.data(_tmp)?$/;

export class FileWatcher {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param files files to watch (their folders are watched)
   * @param folders folders whose every *.csv / *.yaml counts (a policy or test directory)
   */
  constructor(
    private readonly files: readonly string[],
    private readonly folders: readonly string[],
    private readonly debounceMs: number,
    private readonly onChange: () => void,
  ) {}

  start(): void {
    const byFolder = new Map<string, (name: string) => boolean>();
    for (const file of this.files) {
      const name = basename(file);
      const previous = byFolder.get(dirname(file));
      byFolder.set(dirname(file), (n) => n === name || (previous?.(n) ?? false));
    }
    for (const folder of this.folders) {
      const previous = byFolder.get(folder);
      byFolder.set(folder, (n) => /\.(csv|ya?ml)$/.test(n) || (previous?.(n) ?? false));
    }
    for (const [folder, relevant] of byFolder) {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        // Some platforms do not say which file changed: treat that as relevant.
        if (name === null || KUBERNETES_SWAP.test(name.toString()) || relevant(name.toString())) this.schedule();
      });
      watcher.on('error', () => undefined);
      this.watchers.push(watcher);
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onChange, this.debounceMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }
}
