/** `fn` to be called at most once: a release or give-back that a caller may repeat (in a finally, on two paths). */
export function callOnce(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
