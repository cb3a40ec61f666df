import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { cancelSuiteRun, rerunSuiteRun } from "@/features/runs/api/run-actions";
import { suiteRunQuery, TERMINAL } from "@/features/runs/api/runs";
import type { SuiteRun } from "@/features/runs/api/suite-runs";
import { hasRole, useMe } from "@/shared/auth/me";
import { ActionError, useAction } from "@/shared/forms/use-action";
import { Button } from "@/shared/ui/button";

type Action = "cancel" | "rerun" | "rerun-failed";

/** Cancel a suite run that is going on; once it has ended, run it again (every test, or only those that did
 * not pass). Shown to editors; the API decides. */
export function SuiteRunActions({ suiteRun }: { suiteRun: SuiteRun }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { busy, error, run } = useAction<Action>();
  if (!hasRole(me, "editor")) return null;
  const ended = TERMINAL.has(suiteRun.status);
  const notPassed = ended ? suiteRun.total - (suiteRun.counts.PASSED ?? 0) : 0;

  function act(action: Action) {
    return run(action, async () => {
      if (action === "cancel") {
        await cancelSuiteRun(suiteRun.id);
        await queryClient.invalidateQueries({ queryKey: suiteRunQuery(suiteRun.id).queryKey });
        return;
      }
      const created = await rerunSuiteRun(suiteRun.id, action === "rerun-failed");
      await queryClient.invalidateQueries({ queryKey: ["suite-runs"] });
      void navigate({ to: "/suite-runs/$suiteRunId", params: { suiteRunId: created.id } });
    });
  }

  return (
    <div className="flex flex-wrap items-center gap-2" role="group" aria-label="Suite run actions">
      {!ended ? (
        <Button variant="danger" disabled={busy !== null} onClick={() => void act("cancel")}>
          {busy === "cancel" ? "Cancelling…" : "Cancel suite run"}
        </Button>
      ) : (
        <>
          <Button variant="secondary" disabled={busy !== null} onClick={() => void act("rerun")}>
            {busy === "rerun" ? "Starting…" : "Re-run every test"}
          </Button>
          {notPassed > 0 ? (
            <Button variant="secondary" disabled={busy !== null} onClick={() => void act("rerun-failed")}>
              {busy === "rerun-failed" ? "Starting…" : `Re-run the tests that did not pass (${notPassed})`}
            </Button>
          ) : null}
        </>
      )}
      <ActionError error={error} />
    </div>
  );
}
