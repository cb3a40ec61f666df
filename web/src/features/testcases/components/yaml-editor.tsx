// The test case editor: CodeMirror 6 with YAML, the published JSON Schema's problems marked as you type,
// completion of keys and values, and the API's problems from the last save at their lines. Loaded lazily
// (see lazy-editors.tsx): the list screens never download it.
import { autocompletion, closeBrackets, completionKeymap, type CompletionSource } from "@codemirror/autocomplete";
import { forceLinting, linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState, StateEffect, StateField } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { useEffect, useImperativeHandle, useMemo, useRef, type Ref } from "react";
import { completionContext, suggestions } from "@/features/testcases/api/yaml-completion";
import type { DefinitionIssue } from "@/features/testcases/api/problems";
import { makeValidator, serverProblems, yamlProblems, type Problem } from "@/features/testcases/api/yaml-problems";
import { editorRoot, themeFor, yamlBasics } from "./codemirror-setup";

export type EditorHandle = { goTo: (offset: number) => void };

export type YamlEditorProps = {
  initial: string;
  schema: unknown;
  /** The API's problems from a failed save (a new object per save); null clears them. */
  server: { issues: DefinitionIssue[] } | null;
  readOnly: boolean;
  dark: boolean;
  label: string;
  onChange: (text: string) => void;
  /** Every problem after each check (the schema's and the API's), and the name the text gives. */
  onProblems: (problems: Problem[], name: string | undefined) => void;
  ref?: Ref<EditorHandle>;
};

const setServer = StateEffect.define<Problem[]>();

/** The API's problems, kept at their text while the author edits elsewhere, dropped once their line changes. */
const serverField = StateField.define<Problem[]>({
  create: () => [],
  update(problems, transaction) {
    for (const effect of transaction.effects) if (effect.is(setServer)) return effect.value;
    if (!transaction.docChanged) return problems;
    const doc = transaction.startState.doc;
    return problems
      .filter((problem) => {
        const line = doc.lineAt(problem.from);
        return !transaction.changes.touchesRange(line.from, line.to);
      })
      .map((problem) => ({
        ...problem,
        from: transaction.changes.mapPos(problem.from),
        to: transaction.changes.mapPos(problem.to),
      }));
  },
});

export default function YamlEditor({ initial, schema, server, readOnly, dark, label, onChange, onProblems, ref }: YamlEditorProps) {
  const parent = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const theme = useMemo(() => new Compartment(), []);
  const callbacks = useRef({ onChange, onProblems });
  useEffect(() => {
    callbacks.current = { onChange, onProblems };
  });
  const validator = useMemo(() => (schema ? makeValidator(schema) : undefined), [schema]);

  useImperativeHandle(ref, () => ({
    goTo(offset: number) {
      const current = view.current;
      if (!current) return;
      const at = Math.min(offset, current.state.doc.length);
      current.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: "center" }) });
      current.focus();
    },
  }));

  useEffect(() => {
    const element = parent.current;
    if (!element) return;
    const check = linter(
      (editor): Diagnostic[] => {
        const text = editor.state.doc.toString();
        const { problems, name } = yamlProblems(text, validator);
        const fromServer = editor.state.field(serverField);
        const all = [...problems, ...fromServer].sort((a, b) => a.from - b.from);
        callbacks.current.onProblems(all, name);
        return all.map((problem) => ({ from: problem.from, to: problem.to, severity: "error", message: problem.message }));
      },
      {
        delay: 250,
        // The API's problems arrived: check again (forceLinting alone runs only a check already due).
        needsRefresh: (update) => update.transactions.some((tr) => tr.effects.some((effect) => effect.is(setServer))),
      },
    );
    const complete: CompletionSource = (context) => {
      const at = completionContext(context.state.doc.toString(), context.pos);
      if (!at || !schema) return null;
      if (at.from === context.pos && !context.explicit && at.kind === "key") return null;
      const options = suggestions(schema, at).map((s) => ({
        label: s.label,
        apply: s.apply,
        detail: s.detail,
        info: s.info,
        type: s.kind === "key" ? "property" : "enum",
      }));
      return options.length ? { from: at.from, options, validFor: /^[\w$.-]*$/ } : null;
    };
    const root = editorRoot(element);
    const editor = new EditorView({
      parent: root,
      root,
      state: EditorState.create({
        doc: initial,
        extensions: [
          yamlBasics(label, readOnly),
          serverField,
          check,
          lintGutter(),
          closeBrackets(),
          autocompletion({ override: [complete], icons: false }),
          keymap.of(completionKeymap),
          theme.of(themeFor(dark)),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) callbacks.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is made once per document; the theme and the API's problems are passed in below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial, readOnly, validator]);

  useEffect(() => {
    view.current?.dispatch({ effects: theme.reconfigure(themeFor(dark)) });
  }, [dark, theme]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    // Placed in the text as it is now (the same as was sent, unless the author typed since).
    const problems = server ? serverProblems(editor.state.doc.toString(), server.issues) : [];
    editor.dispatch({ effects: setServer.of(problems) });
    forceLinting(editor);
  }, [server]);

  // The editor is drawn in this element's shadow root (see editorRoot); its size is set by its theme.
  return <div ref={parent} />;
}
