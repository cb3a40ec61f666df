import { useId, type ReactNode } from "react";
import { cn } from "@/shared/lib/cn";

export const inputClass =
  "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 placeholder:text-slate-500 " +
  "focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:bg-slate-100 disabled:text-slate-600 " +
  "aria-[invalid=true]:border-red-600 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 " +
  "dark:placeholder:text-slate-400 dark:disabled:bg-slate-900 dark:disabled:text-slate-400 dark:aria-[invalid=true]:border-red-400";

type ControlProps = { id: string; "aria-invalid": boolean; "aria-describedby": string | undefined };

/** A labelled form control with its hint and its error (from the form's checks or the API's problem),
 * wired for screen readers: the control is described by both. */
export function Field({
  label,
  hint,
  error,
  className,
  children,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  className?: string;
  children: (control: ControlProps) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className={cn("flex flex-col gap-1 text-sm", className)}>
      <label htmlFor={id} className="font-medium">
        {label}
      </label>
      {children({ id, "aria-invalid": Boolean(error), "aria-describedby": describedBy })}
      {hint ? (
        <p id={hintId} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="text-xs font-medium text-red-700 dark:text-red-300">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A form's own message (a conflict, a refusal, something no field names). */
export function FormMessage({ message, tone = "error" }: { message: string | null; tone?: "error" | "ok" }) {
  if (!message) return null;
  return (
    <p
      role={tone === "error" ? "alert" : "status"}
      className={cn(
        "rounded-md px-3 py-2 text-sm",
        tone === "error"
          ? "bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200"
          : "bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100",
      )}
    >
      {message}
    </p>
  );
}
