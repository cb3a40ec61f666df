import { useState } from "react";

/** One button action at a time: which one is running, and the API's refusal of the last one. */
export function useAction<A extends string>() {
  const [busy, setBusy] = useState<A | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(action: A, work: () => Promise<unknown>): Promise<void> {
    setBusy(action);
    setError(null);
    try {
      await work();
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(null);
    }
  }

  return { busy, error, run };
}

/** The refusal of an action, announced where its buttons are. */
export function ActionError({ error }: { error: string | null }) {
  return error ? (
    <span role="alert" className="text-sm text-red-700 dark:text-red-300">
      {error}
    </span>
  ) : null;
}
