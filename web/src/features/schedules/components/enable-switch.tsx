import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { setEnabled, type Schedule } from "@/features/schedules/api/schedules";
import { Button } from "@/shared/ui/button";

/** Switch a schedule on or off (its own endpoints; doing it twice changes nothing). */
export function EnableSwitch({ project, schedule, disabled }: { project: string; schedule: Schedule; disabled: boolean }) {
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await setEnabled(project, schedule.name, !schedule.enabled);
      await queryClient.invalidateQueries({ queryKey: ["schedules", project] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        variant="secondary"
        disabled={disabled || busy}
        onClick={() => void toggle()}
        aria-label={`${schedule.enabled ? "Disable" : "Enable"} schedule ${schedule.name}`}
      >
        {schedule.enabled ? "Disable" : "Enable"}
      </Button>
      {error ? (
        <span role="alert" className="text-xs text-red-700 dark:text-red-300">
          {error}
        </span>
      ) : null}
    </span>
  );
}
