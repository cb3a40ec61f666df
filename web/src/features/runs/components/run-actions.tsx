import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { cancelRun, rerunRun, rerunSuiteRun } from "@/features/runs/api/run-actions";
import { runQuery, suiteRunQuery, TERMINAL, type Run } from "@/features/runs/api/runs";
import { hasRole, useMe } from "@/shared/auth/me";
import { ActionError, useAction } from "@/shared/forms/use-action";
import { Button } from "@/shared/ui/button";

type Action = "cancel" | "rerun" | "suite" | "suite-failed";

/** Cancel the run while it is going on; afterwards run it again, or its suite run (whole, or only the tests
 * that did not pass). Shown to editors; the API decides. */
export function RunActions({ run }: { run: Run }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { busy, error, run: act } = useAction<Action>();
  const canEdit = hasRole(me, "editor");
  const suiteRun = useQuery({ ...suiteRunQuery(run.suite_run_id ?? ""), enabled: canEdit && run.suite_run_id !== null });
  if (!canEdit) return null;
  const ended = TERMINAL.has(run.status);
  // The suite run's tests that did not pass, once it has ended (before, the API would refuse).
  const notPassed =
    suiteRun.data && TERMINAL.has(suiteRun.data.status) ? suiteRun.data.total - (suiteRun.data.counts.PASSED ?? 0) : 0;

  function start(action: Action) {
    return act(action, async () => {
      if (action === "cancel") {
        await cancelRun(run.id);
        await queryClient.invalidateQueries({ queryKey: runQuery(run.id).queryKey });
        return;
      }
      const created =
        action === "rerun" ? await rerunRun(run.id) : await rerunSuiteRun(run.suite_run_id ?? "", action === "suite-failed");
      await queryClient.invalidateQueries({ queryKey: ["runs"] });
      const first = (created.runs ?? []).find((id) => id !== run.id) ?? created.id;
      void navigate({ to: "/runs/$runId", params: { runId: first } });
    });
  }

  return (
    <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Run actions">
      {!ended ? (
        <Button variant="danger" disabled={busy !== null || run.cancel_requested} onClick={() => void start("cancel")}>
          {run.cancel_requested ? "Cancelling at the next step…" : busy === "cancel" ? "Cancelling…" : "Cancel run"}
        </Button>
      ) : null}
      <Button variant="secondary" disabled={busy !== null} onClick={() => void start("rerun")}>
        {busy === "rerun" ? "Starting…" : "Re-run"}
      </Button>
      {run.suite_run_id ? (
        <>
          <Button variant="secondary" disabled={busy !== null} onClick={() => void start("suite")}>
            Re-run its suite run
          </Button>
          {notPassed > 0 ? (
            <Button variant="secondary" disabled={busy !== null} onClick={() => void start("suite-failed")}>
              Re-run the suite run's failed tests ({notPassed})
            </Button>
          ) : null}
        </>
      ) : null}
      <ActionError error={error} />
    </div>
  );
}
