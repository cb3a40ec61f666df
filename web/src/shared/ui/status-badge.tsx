import { cn } from "@/shared/lib/cn";

const tones: Record<string, string> = {
  PASSED: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
  passed: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
  FAILED: "bg-red-100 text-red-900 dark:bg-red-900/60 dark:text-red-100",
  failed: "bg-red-100 text-red-900 dark:bg-red-900/60 dark:text-red-100",
  ERROR: "bg-orange-100 text-orange-900 dark:bg-orange-900/60 dark:text-orange-100",
  error: "bg-orange-100 text-orange-900 dark:bg-orange-900/60 dark:text-orange-100",
  TIMED_OUT: "bg-orange-100 text-orange-900 dark:bg-orange-900/60 dark:text-orange-100",
  IN_PROGRESS: "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
  QUEUED: "bg-violet-100 text-violet-900 dark:bg-violet-900/60 dark:text-violet-100",
  PENDING: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
};
const neutral = "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100";

/** A run's or a step's status, as a word (never colour alone). */
export function StatusBadge({ status, className }: { status: string; className?: string }) {
  return (
    <span
      className={cn(
        "inline-block rounded px-2 py-0.5 font-mono text-xs font-semibold whitespace-nowrap",
        tones[status] ?? neutral,
        className,
      )}
    >
      {status.replace("_", " ")}
    </span>
  );
}
