// The editor and the diff view are code-split: their chunk (CodeMirror, the YAML parser, the schema
// validator) is fetched when a screen first shows one, so the application's first load stays small.
import { lazy, Suspense, type ComponentProps } from "react";

const YamlEditorChunk = lazy(() => import("./yaml-editor"));
const VersionDiffChunk = lazy(() => import("./version-diff"));

function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="rounded-md border border-dashed border-slate-300 p-6 text-sm text-slate-600 dark:border-slate-600 dark:text-slate-300">
      Loading the {what}…
    </p>
  );
}

export function LazyYamlEditor(props: ComponentProps<typeof YamlEditorChunk>) {
  return (
    <Suspense fallback={<Loading what="editor" />}>
      <YamlEditorChunk {...props} />
    </Suspense>
  );
}

export function LazyVersionDiff(props: ComponentProps<typeof VersionDiffChunk>) {
  return (
    <Suspense fallback={<Loading what="comparison" />}>
      <VersionDiffChunk {...props} />
    </Suspense>
  );
}
