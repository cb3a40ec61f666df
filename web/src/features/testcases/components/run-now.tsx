import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { environmentsQuery, runNow } from "@/features/testcases/api/testcases";
import { Button } from "@/shared/ui/button";
import { selectClass } from "@/shared/ui/styles";

/** Run the saved version against a chosen environment, then follow the run live on its page. */
export function RunNow({ project, testCase }: { project: string; testCase: string }) {
  const environments = useQuery(environmentsQuery(project));
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const navigate = useNavigate();
  const environment = chosen ?? environments.data?.items[0]?.name;
  const run = useMutation({
    mutationFn: () => runNow(project, testCase, environment ?? ""),
    onSuccess: (runId) => void navigate({ to: "/runs/$runId", params: { runId } }),
  });
  const none = environments.isSuccess && environments.data.items.length === 0;
  return (
    <form
      className="flex flex-wrap items-end gap-2"
      aria-label="Run now"
      onSubmit={(event) => {
        event.preventDefault();
        run.mutate();
      }}
    >
      <label className="flex flex-col gap-1 text-sm font-medium">
        Environment
        <select className={selectClass} value={environment ?? ""} onChange={(event) => setChosen(event.target.value)} disabled={none}>
          {none ? <option value="">No environment in this project</option> : null}
          {environments.data?.items.map((item) => (
            <option key={item.id} value={item.name}>
              {item.name}
            </option>
          ))}
        </select>
      </label>
      <Button type="submit" disabled={!environment || run.isPending} title="Runs the saved version of the test case">
        {run.isPending ? "Starting…" : "Run now"}
      </Button>
      {run.isError ? (
        <p role="alert" className="basis-full text-sm text-red-700 dark:text-red-300">
          Could not start the run: {run.error.message}
        </p>
      ) : null}
    </form>
  );
}
