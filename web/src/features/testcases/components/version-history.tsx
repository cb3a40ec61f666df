import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { fileName, testCaseYamlQuery, versionsQuery } from "@/features/testcases/api/testcases";
import { downloadText } from "@/shared/lib/download";
import { formatTime } from "@/shared/lib/format";
import { useTheme } from "@/shared/lib/theme";
import { Button } from "@/shared/ui/button";
import { LazyVersionDiff } from "./lazy-editors";
import { mutedClass, selectClass } from "@/shared/ui/styles";

type Props = {
  project: string;
  name: string;
  /** The versions compared (from the URL); by default the one before the current and the current. */
  from?: number;
  to?: number;
  onCompare: (from: number, to: number) => void;
};

/** Every version of the test case, and two of them side by side. */
export function VersionHistory({ project, name, from, to, onCompare }: Props) {
  const dark = useTheme() === "dark";
  const queryClient = useQueryClient();
  const [folded, setFolded] = useState(true);
  const versions = useQuery(versionsQuery(project, name));
  const numbers = (versions.data?.items ?? []).map((item) => item.version);
  const latest = numbers.at(-1) ?? 1;
  const after = to ?? latest;
  const before = from ?? Math.max(1, after - 1);
  const [older, newer] = useQueries({
    queries: [testCaseYamlQuery(project, name, before), testCaseYamlQuery(project, name, after)],
  });
  if (versions.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the versions: {versions.error.message}
      </p>
    );
  }
  return (
    <div className="flex flex-col gap-4">
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Versions of {name}, oldest first</caption>
          <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-2 pr-3">Version</th>
              <th scope="col" className="py-2 pr-3">Saved</th>
              <th scope="col" className="py-2 pr-3">Content hash</th>
              <th scope="col" className="py-2"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {(versions.data?.items ?? []).map((item) => (
              <tr key={item.version} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                <td className="py-2 pr-3 font-medium">
                  v{item.version}
                  {item.version === latest ? <span className={`ml-2 text-xs ${mutedClass}`}>current</span> : null}
                </td>
                <td className="py-2 pr-3">{formatTime(item.created_at)}</td>
                <td className="py-2 pr-3 font-mono text-xs">{item.content_hash.slice(0, 12)}</td>
                <td className="py-2 text-right">
                  <Button
                    variant="ghost"
                    aria-label={`Download version ${item.version}`}
                    onClick={() =>
                      void queryClient
                        .fetchQuery(testCaseYamlQuery(project, name, item.version))
                        .then((text) => downloadText(fileName(`${name}-v${item.version}`), text))
                    }
                  >
                    Download
                  </Button>
                  {item.version > 1 ? (
                    <Button variant="ghost" onClick={() => onCompare(item.version - 1, item.version)}>
                      Changes in v{item.version}
                    </Button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {numbers.length > 1 ? (
        <section aria-labelledby="compare-heading" className="flex flex-col gap-2">
          <h2 id="compare-heading" className="text-lg font-semibold">
            Version {before} compared with version {after}
          </h2>
          <form className="flex flex-wrap items-end gap-3" aria-label="Versions to compare" onSubmit={(event) => event.preventDefault()}>
            <label className="flex flex-col gap-1 text-sm font-medium">
              From
              <select className={selectClass} value={before} onChange={(event) => onCompare(Number(event.target.value), after)}>
                {numbers.map((number) => (
                  <option key={number} value={number}>
                    v{number}
                  </option>
                ))}
              </select>
            </label>
            <label className="flex flex-col gap-1 text-sm font-medium">
              To
              <select className={selectClass} value={after} onChange={(event) => onCompare(before, Number(event.target.value))}>
                {numbers.map((number) => (
                  <option key={number} value={number}>
                    v{number}
                  </option>
                ))}
              </select>
            </label>
            <Button variant="secondary" aria-pressed={!folded} onClick={() => setFolded(!folded)}>
              {folded ? "Show unchanged lines" : "Fold unchanged lines"}
            </Button>
          </form>
          {older.data !== undefined && newer.data !== undefined ? (
            older.data === newer.data ? (
              <p className={mutedClass}>The two versions are the same.</p>
            ) : (
              <LazyVersionDiff
                before={older.data}
                after={newer.data}
                beforeLabel={`Version ${before} of ${name}`}
                afterLabel={`Version ${after} of ${name}`}
                dark={dark}
                folded={folded}
              />
            )
          ) : older.isError || newer.isError ? (
            <p role="alert" className="text-red-700 dark:text-red-300">
              Could not load a version: {(older.error ?? newer.error)?.message}
            </p>
          ) : (
            <p className={mutedClass}>Loading the versions…</p>
          )}
        </section>
      ) : (
        <p className={mutedClass}>There is only one version: save a change to compare versions.</p>
      )}
    </div>
  );
}
