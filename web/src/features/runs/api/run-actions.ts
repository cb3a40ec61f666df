import { api, unwrap } from "@/shared/api/client";

/** Cancel a run: at once when it has not started, else at its next step boundary. */
export function cancelRun(runId: string) {
  return unwrap(api.POST("/api/v1/runs/{run_id}/cancel", { params: { path: { run_id: runId } } }));
}

/** Cancel every run of a suite run that has not ended (each at its next step boundary). */
export function cancelSuiteRun(suiteRunId: string) {
  return unwrap(
    api.POST("/api/v1/suite-runs/{suite_run_id}/cancel", { params: { path: { suite_run_id: suiteRunId } } }),
  );
}

/** A new run with the same test-case version, environment, variables and priority. */
export function rerunRun(runId: string) {
  return unwrap(api.POST("/api/v1/runs/{run_id}/rerun", { params: { path: { run_id: runId } } }));
}

/** A new suite run like the run's suite run: every test, or only those that did not pass. */
export function rerunSuiteRun(suiteRunId: string, onlyFailed: boolean) {
  return unwrap(
    api.POST("/api/v1/suite-runs/{suite_run_id}/rerun", {
      params: { path: { suite_run_id: suiteRunId } },
      body: { only_failed: onlyFailed },
    }),
  );
}

/** The assistant's reading of a failed run: a summary, findings citing evidence, the evidence itself. */
export function explainRun(runId: string) {
  return unwrap(api.POST("/api/v1/runs/{run_id}/explain", { params: { path: { run_id: runId } } }));
}
