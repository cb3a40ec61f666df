import * as Tabs from "@radix-ui/react-tabs";
import type { ComponentPropsWithRef } from "react";
import type { Step } from "@/features/runs/api/runs";
import { formatDuration } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";
import { ChecksTable, checkVerdict, type Check } from "./checks-table";
import { RequestView, ResponseView } from "./http-exchange";

const tabClass =
  "rounded-t-md px-3 py-1.5 text-sm font-medium text-slate-600 data-[state=active]:border-b-2 data-[state=active]:border-indigo-600 data-[state=active]:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:data-[state=active]:text-white";

export type StepTab = "checks" | "request" | "response";

/** Whether a step starts open: one that did not pass (nor was skipped) does. */
export function opensAtFirst(step: Step): boolean {
  return step.status !== "passed" && step.status !== "skipped";
}

type StepItemProps = {
  step: Step;
  /** Open or closed, and the tab shown, when the list keeps them (a virtualised list unmounts rows). */
  open?: boolean;
  onOpenChange?: (open: boolean) => void;
  tab?: StepTab;
  onTabChange?: (tab: StepTab) => void;
} & Omit<ComponentPropsWithRef<"li">, "children">;

/** One step: its name and verdict; opened, its checks, request and response. A step that did not pass
 * starts open. */
export function StepItem({ step, open, onOpenChange, tab, onTabChange, ...item }: StepItemProps) {
  const checks = step.assertions as Check[];
  const failedChecks = checks.filter((check) => checkVerdict(check) === "failed").length;
  const skippedChecks = checks.filter((check) => checkVerdict(check) === "skipped").length;
  return (
    <li {...item}>
      <details
        open={open ?? opensAtFirst(step)}
        onToggle={(event) => onOpenChange?.(event.currentTarget.open)}
        className="group rounded-lg border border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900"
      >
        <summary className="flex cursor-pointer items-center gap-3 px-4 py-2 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500">
          <span className="w-16 text-right font-mono text-xs text-slate-500 dark:text-slate-400">
            {step.phase === "main" ? `#${step.seq}` : step.phase}
          </span>
          <StatusBadge status={step.status} />
          <span className="flex-1 truncate font-medium">{step.name}</span>
          <span className="text-xs text-slate-600 dark:text-slate-300">
            {checks.length} check{checks.length === 1 ? "" : "s"}
            {failedChecks ? `, ${failedChecks} failed` : ""}
            {skippedChecks ? `, ${skippedChecks} skipped` : ""}
            {step.attempts > 1 ? ` · ${step.attempts} attempts` : ""}
          </span>
          <span className="w-20 text-right text-xs tabular-nums">{formatDuration(step.duration_ms)}</span>
        </summary>
        <div className="border-t border-slate-200 px-4 py-3 dark:border-slate-700">
          {step.error && step.status === "skipped" ? (
            <p className="mb-2 text-sm whitespace-pre-wrap text-slate-600 dark:text-slate-300">skipped: {step.error}</p>
          ) : step.error ? (
            <p className="mb-2 font-mono text-sm whitespace-pre-wrap text-red-700 dark:text-red-300">{step.error}</p>
          ) : null}
          <Tabs.Root value={tab} defaultValue="checks" onValueChange={(value) => onTabChange?.(value as StepTab)}>
            <Tabs.List aria-label={`Details of step ${step.name}`} className="mb-3 flex gap-1 border-b border-slate-200 dark:border-slate-700">
              <Tabs.Trigger value="checks" className={tabClass}>
                Checks
              </Tabs.Trigger>
              <Tabs.Trigger value="request" className={tabClass}>
                Request
              </Tabs.Trigger>
              <Tabs.Trigger value="response" className={tabClass}>
                Response
              </Tabs.Trigger>
            </Tabs.List>
            <Tabs.Content value="checks">
              <ChecksTable checks={checks} />
            </Tabs.Content>
            <Tabs.Content value="request">
              <RequestView request={step.request} />
            </Tabs.Content>
            <Tabs.Content value="response">
              <ResponseView response={step.response} />
            </Tabs.Content>
          </Tabs.Root>
        </div>
      </details>
    </li>
  );
}
