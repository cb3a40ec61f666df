import { readCron } from "@/features/schedules/api/cron-reading";
import { Field, inputClass } from "@/shared/ui/field";

/** The cron expression, read out in words as it is typed. */
export function CronField({
  value,
  onChange,
  error,
  disabled,
}: {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  disabled?: boolean;
}) {
  const reading = value.trim() ? readCron(value) : null;
  return (
    <Field
      label="Cron expression"
      error={error}
      hint={
        <>
          minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly, @yearly.{" "}
          <output aria-live="polite" className="block font-medium text-slate-800 dark:text-slate-200">
            {reading === null ? "" : reading.ok ? `Reads: ${reading.text}` : `Cannot read it: ${reading.error}`}
          </output>
        </>
      }
    >
      {(control) => (
        <input
          {...control}
          className={`${inputClass} font-mono`}
          placeholder="30 2 * * 1-5"
          spellCheck={false}
          value={value}
          disabled={disabled}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </Field>
  );
}
