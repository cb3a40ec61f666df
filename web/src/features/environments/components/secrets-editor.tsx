import type { SecretEdit } from "@/features/environments/api/environments";
import { Button } from "@/shared/ui/button";
import { inputClass } from "@/shared/ui/field";

type Props = { secrets: SecretEdit[]; onChange: (next: SecretEdit[]) => void; disabled: boolean; describedBy?: string };

/** Write-only secrets: stored ones show their name only (their value never leaves the server); a value typed
 * here replaces it, "Remove" deletes it; new ones get a name and a value. Values are password inputs and are
 * cleared once saved. */
export function SecretsEditor({ secrets, onChange, disabled, describedBy }: Props) {
  const change = (index: number, patch: Partial<SecretEdit>) =>
    onChange(secrets.map((secret, at) => (at === index ? { ...secret, ...patch } : secret)));
  return (
    <fieldset className="flex flex-col gap-2" aria-describedby={describedBy}>
      <legend className="text-lg font-semibold">Secrets</legend>
      <p className="text-xs text-slate-600 dark:text-slate-400">
        Stored encrypted and never shown again, here or anywhere: type a value only to replace it.
      </p>
      {secrets.length === 0 ? <p className="text-sm text-slate-600 dark:text-slate-300">No secrets.</p> : null}
      <ul className="flex flex-col gap-2">
        {secrets.map((secret, index) => (
          <li key={index} className="flex flex-wrap items-center gap-2">
            {secret.stored ? (
              <span className="min-w-40 font-mono text-sm">{secret.name}</span>
            ) : (
              <input
                aria-label={`Name of new secret ${index + 1}`}
                className={`${inputClass} min-w-40 font-mono`}
                value={secret.name}
                disabled={disabled}
                autoComplete="off"
                spellCheck={false}
                onChange={(event) => change(index, { name: event.target.value })}
              />
            )}
            <input
              type="password"
              aria-label={secret.stored ? `New value for secret ${secret.name}` : `Value of new secret ${index + 1}`}
              placeholder={secret.stored ? "•••••••• (unchanged)" : "value"}
              className={`${inputClass} flex-1 font-mono`}
              value={secret.value}
              disabled={disabled || secret.remove}
              autoComplete="off"
              onChange={(event) => change(index, { value: event.target.value })}
            />
            {secret.stored ? (
              <label className="flex items-center gap-1 text-sm">
                <input
                  type="checkbox"
                  checked={secret.remove}
                  disabled={disabled}
                  onChange={(event) => change(index, { remove: event.target.checked, value: "" })}
                />
                Remove
              </label>
            ) : (
              <Button
                variant="ghost"
                disabled={disabled}
                onClick={() => onChange(secrets.filter((_, at) => at !== index))}
                aria-label={`Discard new secret ${index + 1}`}
              >
                Discard
              </Button>
            )}
          </li>
        ))}
      </ul>
      <div>
        <Button
          variant="secondary"
          disabled={disabled}
          onClick={() => onChange([...secrets, { name: "", value: "", stored: false, remove: false }])}
        >
          Add a secret
        </Button>
      </div>
    </fieldset>
  );
}
