// Two versions of a test case side by side (@codemirror/merge), read-only, unchanged stretches folded.
// Loaded lazily with the editor's chunk.
import { MergeView } from "@codemirror/merge";
import { EditorView } from "@codemirror/view";
import { useEffect, useRef } from "react";
import { editorRoot, themeFor, yamlBasics } from "./codemirror-setup";

type Props = {
  before: string;
  after: string;
  beforeLabel: string;
  afterLabel: string;
  dark: boolean;
  /** Fold long unchanged stretches (a click unfolds one; the page offers a button for all). */
  folded: boolean;
};

export default function VersionDiff({ before, after, beforeLabel, afterLabel, dark, folded }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = parent.current;
    if (!element) return;
    // Both sides grow with their text (unchanged stretches folded), so their lines stay side by side.
    const whole = EditorView.theme({ ".cm-scroller": { minHeight: "0" } });
    const side = (label: string) => [yamlBasics(label, true), EditorView.editable.of(false), themeFor(dark), whole];
    const view = new MergeView({
      a: { doc: before, extensions: side(beforeLabel) },
      b: { doc: after, extensions: side(afterLabel) },
      parent: editorRoot(element),
      root: editorRoot(element),
      gutter: true,
      ...(folded ? { collapseUnchanged: { margin: 3, minSize: 6 } } : {}),
    });
    return () => view.destroy();
  }, [before, after, beforeLabel, afterLabel, dark, folded]);
  return <div ref={parent} />;
}
