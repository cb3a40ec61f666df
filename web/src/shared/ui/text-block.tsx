import { cn } from "@/shared/lib/cn";

/** Text from a SUT or a run (bodies, headers, values): always rendered as text, never as HTML. */
export function TextBlock({ text, label, className }: { text: string; label: string; className?: string }) {
  return (
    <pre
      aria-label={label}
      tabIndex={0}
      className={cn(
        "max-h-96 overflow-auto rounded-md bg-slate-100 p-3 font-mono text-xs whitespace-pre-wrap break-all text-slate-900",
        "focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-slate-950 dark:text-slate-100",
        className,
      )}
    >
      {text}
    </pre>
  );
}
