import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { readCron } from "@/features/schedules/api/cron-reading";
import {
  deleteSchedule,
  draftOf,
  FIRES_PAGE,
  firesQuery,
  scheduleQuery,
  updateSchedule,
  type ScheduleDetail,
} from "@/features/schedules/api/schedules";
import { hasRole, useMe } from "@/shared/auth/me";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { FormMessage } from "@/shared/ui/field";
import { EnableSwitch } from "./enable-switch";
import { ScheduleForm } from "./schedule-form";

const FIRE_TIME: Intl.DateTimeFormatOptions = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23", // as the cron reading says its times
};

/** A fire time in ``timeZone`` (undefined: the browser's). */
function fireTime(iso: string, timeZone?: string): string {
  try {
    return new Date(iso).toLocaleString(undefined, { ...FIRE_TIME, timeZone });
  } catch {
    return iso;
  }
}

function NextFires({ schedule }: { schedule: ScheduleDetail }) {
  return (
    <Card aria-labelledby="next-fires">
      <h2 id="next-fires" className="text-lg font-semibold">
        Next fire times
      </h2>
      {!schedule.enabled ? (
        <p className="mb-2 text-sm text-amber-800 dark:text-amber-200">Disabled: it will not fire until it is enabled. When enabled, it would fire at:</p>
      ) : null}
      <ol className="mt-2 flex flex-col gap-1 text-sm" aria-label="Next fire times">
        {schedule.next_fire_times.map((time) => (
          <li key={time} className="flex flex-wrap gap-x-3">
            <span className="font-medium tabular-nums">
              {fireTime(time, schedule.timezone)} <span className="text-slate-600 dark:text-slate-400">{schedule.timezone}</span>
            </span>
            <span className="text-slate-600 dark:text-slate-400">({fireTime(time)} your time)</span>
          </li>
        ))}
      </ol>
    </Card>
  );
}

function PastFires({ project, name }: { project: string; name: string }) {
  const [page, setPage] = useState(1);
  const fires = useQuery(firesQuery(project, name, page));
  const total = fires.data?.total ?? 0;
  return (
    <Card aria-labelledby="past-fires">
      <h2 id="past-fires" className="text-lg font-semibold">
        Past fires ({total})
      </h2>
      {fires.isError ? (
        <p role="alert">Could not load the fires: {fires.error.message}</p>
      ) : total === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">It has not fired yet.</p>
      ) : (
        <table className="mt-2 w-full text-left text-sm">
          <caption className="sr-only">Past fires, most recent first</caption>
          <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-1 pr-3">Due</th>
              <th scope="col" className="py-1 pr-3">Fired</th>
              <th scope="col" className="py-1 pr-3">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {fires.data?.items.map((fire) => (
              <tr key={`${fire.fire_time}`} className="border-t border-slate-100 dark:border-slate-800">
                <td className="py-1 pr-3">{formatTime(fire.fire_time)}</td>
                <td className="py-1 pr-3">{formatTime(fire.created_at)}</td>
                <td className="py-1 pr-3">
                  {fire.error ? (
                    <span className="text-red-700 dark:text-red-300">not started: {fire.error}</span>
                  ) : fire.suite_run_id ? (
                    <Link to="/runs" search={{ page: 1, project }} className="text-indigo-700 hover:underline dark:text-indigo-300">
                      suite run {fire.suite_run_id.slice(0, 8)}
                    </Link>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {total > FIRES_PAGE ? (
        <div className="mt-2 flex gap-2">
          <Button variant="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Newer
          </Button>
          <Button variant="secondary" disabled={page * FIRES_PAGE >= total} onClick={() => setPage(page + 1)}>
            Older
          </Button>
        </div>
      ) : null}
    </Card>
  );
}

/** One schedule: what it does and when it fires next, its past fires, and its settings. */
export function SchedulePage({ project, name }: { project: string; name: string }) {
  const schedule = useQuery(scheduleQuery(project, name));
  const canEdit = hasRole(useMe(), "editor");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);

  async function remove() {
    if (!window.confirm(`Delete schedule '${name}' and its fire history? The suite runs it started are kept.`)) return;
    try {
      await deleteSchedule(project, name);
      await queryClient.invalidateQueries({ queryKey: ["schedules", project] });
      void navigate({ to: "/schedules", search: { project } });
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  if (schedule.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the schedule: {schedule.error.message}
      </p>
    );
  }
  if (!schedule.data) return <p>Loading the schedule…</p>;
  const data = schedule.data;
  const read = readCron(data.cron);
  return (
    <div className="flex flex-col gap-4">
      <Link to="/schedules" search={{ project }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
        ← Schedules of {project}
      </Link>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold break-all">{data.name}</h1>
        <span className="rounded bg-slate-200 px-2 py-0.5 text-xs font-semibold dark:bg-slate-700">{data.enabled ? "enabled" : "disabled"}</span>
        {canEdit ? <EnableSwitch project={project} schedule={data} disabled={false} /> : null}
      </div>
      <p>
        Starts suite <strong>{data.suite}</strong> on <strong>{data.environment}</strong>:{" "}
        <code className="font-mono">{data.cron}</code> ({data.timezone}) — {read.ok ? read.text : data.cron}. Missed times:{" "}
        {data.misfire_policy}.
      </p>
      <div className="grid gap-4 md:grid-cols-2">
        <NextFires schedule={data} />
        <PastFires project={project} name={data.name} />
      </div>
      <Card aria-labelledby="schedule-settings">
        <h2 id="schedule-settings" className="mb-3 text-lg font-semibold">
          Settings
        </h2>
        <ScheduleForm
          key={data.updated_at}
          project={project}
          initial={draftOf(data)}
          submitLabel="Save"
          disabled={!canEdit}
          send={(draft) => updateSchedule(project, data.name, draft)}
          onSent={(draft) => {
            void queryClient.invalidateQueries({ queryKey: ["schedules", project] });
            if (draft.name !== data.name) {
              void navigate({ to: "/schedules/$project/$schedule", params: { project, schedule: draft.name } });
            }
          }}
        />
      </Card>
      <FormMessage message={error} />
      {canEdit ? (
        <div>
          <Button variant="danger" onClick={() => void remove()}>
            Delete schedule
          </Button>
        </div>
      ) : null}
    </div>
  );
}
