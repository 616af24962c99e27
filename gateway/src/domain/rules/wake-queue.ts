/**
 * When each (device, rule) next needs the clock: a binary min-heap of hints with lazy deletion.
 * A key keeps at most one live entry (the earliest asked for); a later request leaves the earlier
 * hint in place, and the engine re-asks the rule when it pops. So the heap stays near one entry
 * per pending timer even when every message moves a deadline, and a wake-up may come early but
 * never late.
 */
export class WakeQueue {
  private readonly heap: Array<{ at: number; key: string }> = [];
  private readonly live = new Map<string, number>();

  /** Asks to be woken at `at`; keeps an earlier request for the same key. */
  request(key: string, at: number): void {
    const current = this.live.get(key);
    if (current !== undefined && current <= at) return;
    this.live.set(key, at);
    this.push({ at, key });
  }

  /** The earliest live wake-up, or null. */
  peek(): number | null {
    this.dropStale();
    return this.heap[0]?.at ?? null;
  }

  /** Removes and returns the earliest live entry due at or before `now`. */
  popDue(now: number): string | null {
    this.dropStale();
    const top = this.heap[0];
    if (!top || top.at > now) return null;
    this.pop();
    this.live.delete(top.key);
    return top.key;
  }

  get size(): number {
    return this.live.size;
  }

  private dropStale(): void {
    for (let top = this.heap[0]; top && this.live.get(top.key) !== top.at; top = this.heap[0]) this.pop();
  }

  private push(entry: { at: number; key: string }): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= entry.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      const candidate = (j: number) => (j < h.length ? h[j]!.at : Infinity);
      const at = (j: number) => (j === i ? last.at : candidate(j));
      if (at(l) < at(smallest)) smallest = l;
      if (at(r) < at(smallest)) smallest = r;
      if (smallest === i) break;
      h[i] = h[smallest]!;
      i = smallest;
    }
    h[i] = last;
  }
}
