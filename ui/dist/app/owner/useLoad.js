// useLoad runs an async loader on mount (and when deps change) and keeps
// its result, error and a reload function for the owner pages.
import { useCallback, useEffect, useState } from "preact/hooks";

export function useLoad(loader, deps = []) {
  const [st, setSt] = useState({ data: null, error: "", loading: true });
  const run = useCallback(async () => {
    setSt((s) => ({ ...s, loading: true }));
    try {
      setSt({ data: await loader(), error: "", loading: false });
    } catch (e) {
      setSt((s) => ({ ...s, error: e.message, loading: false }));
    }
  }, deps);
  useEffect(() => {
    run();
  }, [run]);
  return { ...st, reload: run };
}
