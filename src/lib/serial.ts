// Operations run one after another per key: a start, stop or restart of one service never
// interleaves with another on the same service, while different services proceed in parallel.
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    // Forget the chain once it is idle, so the map does not hold every key forever. `tail` never
    // rejects, and this callback cannot throw.
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return next;
  }
}
