import { useState } from "react";
import { problemFields, type FieldErrors } from "./problem-fields";

/** Sends a checked form, and places the API's problem next to the fields it names.
 *
 * No TanStack mutation on purpose: a mutation keeps its variables (here: secret values) in the mutation
 * cache; this keeps nothing once the call returns. */
export function useSubmit<F extends string>(fields: readonly F[], aliases: Partial<Record<string, F>> = {}) {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [formError, setFormError] = useState<string | null>(null);

  /** Runs ``send`` unless ``checked`` carries a problem; true when it succeeded. */
  async function submit(checked: FieldErrors<F>, send: () => Promise<unknown>): Promise<boolean> {
    if (Object.values(checked).some(Boolean)) {
      setErrors(checked);
      setFormError("Some fields need a change: see the messages next to them.");
      return false;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      await send();
      return true;
    } catch (error) {
      const problem = problemFields(error, fields, aliases);
      setErrors(problem.fields);
      setFormError(problem.form ?? (Object.keys(problem.fields).length ? "The server refused some fields: see the messages next to them." : null));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return { busy, errors, formError, submit, setFormError };
}
