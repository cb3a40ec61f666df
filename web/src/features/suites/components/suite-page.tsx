import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { membersQuery, suiteQuery, suiteYamlQuery } from "@/features/suites/api/suites";
import { downloadText } from "@/shared/lib/download";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { StatusBadge } from "@/shared/ui/status-badge";
import { TextBlock } from "@/shared/ui/text-block";

const muted = "text-slate-600 dark:text-slate-300";
const link = "font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

/** A suite: its members with their latest verdicts, its variables, its YAML file. */
export function SuitePage({ project, name }: { project: string; name: string }) {
  const queryClient = useQueryClient();
  const suite = useQuery(suiteQuery(project, name));
  const cases = useQuery(membersQuery(project));
  if (suite.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the suite: {suite.error.message}
      </p>
    );
  }
  if (!suite.data) return <p>Loading the suite…</p>;
  const all = suite.data.tests.length === 1 && suite.data.tests[0] === "*";
  const byName = new Map((cases.data?.items ?? []).map((item) => [item.name, item]));
  const members = all ? (cases.data?.items ?? []).map((item) => item.name) : suite.data.tests;
  return (
    <div className="flex flex-col gap-4">
      <Link to="/suites" search={{ project }} className={`text-sm ${link}`}>
        ← Suites of {project}
      </Link>
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold break-all">{suite.data.name}</h1>
          {suite.data.description ? <p className={muted}>{suite.data.description}</p> : null}
        </div>
        <Button
          variant="secondary"
          onClick={() =>
            void queryClient.fetchQuery(suiteYamlQuery(project, name)).then((text) => downloadText(`${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.yaml`, text))
          }
        >
          Download YAML
        </Button>
      </div>
      <Card aria-labelledby="members-heading">
        <h2 id="members-heading" className="mb-2 text-lg font-semibold">
          Test cases ({members.length}){all ? <span className={`ml-2 text-sm font-normal ${muted}`}>every test case of the project</span> : null}
        </h2>
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-2 pr-3">Test case</th>
              <th scope="col" className="py-2 pr-3">Last run</th>
              <th scope="col" className="py-2">When</th>
            </tr>
          </thead>
          <tbody>
            {members.map((member) => {
              const last = byName.get(member)?.last_run;
              return (
                <tr key={member} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                  <td className="py-2 pr-3">
                    <Link to="/test-cases/$project/$name" params={{ project, name: member }} className={link}>
                      {member}
                    </Link>
                  </td>
                  <td className="py-2 pr-3">
                    {last ? (
                      <Link to="/runs/$runId" params={{ runId: last.id }} aria-label={`Last run of ${member}: ${last.status.toLowerCase()}`}>
                        <StatusBadge status={last.status} />
                      </Link>
                    ) : (
                      <span className={`text-xs ${muted}`}>never run</span>
                    )}
                  </td>
                  <td className="py-2">{last ? formatTime(last.created_at) : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      {Object.keys(suite.data.variables).length ? (
        <Card aria-labelledby="variables-heading">
          <h2 id="variables-heading" className="mb-2 text-lg font-semibold">
            Variables
          </h2>
          <TextBlock label="Variables of the suite" text={JSON.stringify(suite.data.variables, null, 2)} />
        </Card>
      ) : null}
    </div>
  );
}
