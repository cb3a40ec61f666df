import type { Problem } from "@/features/testcases/api/yaml-problems";

/** The editor's problems as a list (read by screen readers; a click or Enter moves the cursor there). */
export function ProblemsList({ problems, onGoTo }: { problems: Problem[]; onGoTo: (offset: number) => void }) {
  return (
    <section aria-labelledby="problems-heading" className="flex flex-col gap-1">
      <h2 id="problems-heading" className="text-sm font-semibold">
        {problems.length === 0 ? "No problems found" : `Problems (${problems.length})`}
      </h2>
      {problems.length ? (
        <ol className="flex flex-col gap-1 text-sm">
          {problems.map((problem, index) => (
            <li key={`${problem.from}-${index}`}>
              <button
                type="button"
                onClick={() => onGoTo(problem.from)}
                className="w-full rounded px-2 py-1 text-left text-red-800 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-red-200 dark:hover:bg-red-950"
              >
                <span className="font-mono text-xs">
                  Line {problem.line}, column {problem.column}
                </span>
                : {problem.message}
                {problem.api ? <span className="text-xs text-slate-600 dark:text-slate-300"> (from the server, on saving)</span> : null}
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
