/** `load`, called once: a repeated `import()` costs 15-20 µs, every store of a run of 1000. */
export function lazily<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
