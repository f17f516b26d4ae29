/** Event-loop turns taken while `work` runs: a ticker re-arms itself on every turn (sliced work yields, a single block does not). */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<[number, T]> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  running = false;
  return [turns, result];
}
