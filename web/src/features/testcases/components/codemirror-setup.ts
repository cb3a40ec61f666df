// What every YAML editor of the feature shares: YAML highlighting, line numbers, the keyboard, and a light
// and a dark look that follow the application's theme. Loaded only with the editor (a chunk of its own).
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, Prec, type Extension } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

// Colours chosen for contrast (WCAG AA) on the editor's background in each theme.
const lightHighlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "#1e40af" },
  { tag: [tags.string, tags.special(tags.string)], color: "#9a3412" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#166534" },
  { tag: [tags.comment, tags.lineComment], color: "#4b5563", fontStyle: "italic" },
  { tag: [tags.meta, tags.punctuation, tags.separator, tags.typeName, tags.labelName], color: "#6b21a8" },
]);
const darkHighlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "#93c5fd" },
  { tag: [tags.string, tags.special(tags.string)], color: "#fdba74" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#86efac" },
  { tag: [tags.comment, tags.lineComment], color: "#cbd5e1", fontStyle: "italic" },
  { tag: [tags.meta, tags.punctuation, tags.separator, tags.typeName, tags.labelName], color: "#d8b4fe" },
]);

const base = EditorView.theme({
  "&": { fontSize: "13px", border: "1px solid #cbd5e1", borderRadius: "6px" },
  "&.cm-focused": { outline: "2px solid #6366f1", outlineOffset: "1px" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
  ".cm-gutters": { backgroundColor: "#f1f5f9", color: "#475569", borderRight: "1px solid #cbd5e1" },
  ".cm-activeLine": { backgroundColor: "#eef2ff" },
  ".cm-activeLineGutter": { backgroundColor: "#e0e7ff" },
  // As tall as its text (the page scrolls, not a box inside it); room to write in a short one.
  ".cm-scroller": { overflow: "auto", minHeight: "12rem" },
  // The diff's folded stretches: a mark every font has (the default one is missing from many).
  ".cm-collapsedLines:before, .cm-collapsedLines:after": { content: '"…"' },
});
const dark = EditorView.theme(
  {
    "&": { backgroundColor: "#0f172a", color: "#e2e8f0", border: "1px solid #334155" },
    ".cm-gutters": { backgroundColor: "#1e293b", color: "#cbd5e1", borderRight: "1px solid #334155" },
    ".cm-activeLine": { backgroundColor: "#1e1b4b" },
    ".cm-activeLineGutter": { backgroundColor: "#312e81" },
    ".cm-cursor, .cm-dropCursor": { borderLeftColor: "#e2e8f0" },
    "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "#3730a3" },
    ".cm-tooltip": { backgroundColor: "#1e293b", color: "#e2e8f0", border: "1px solid #475569" },
    ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "#4338ca", color: "#fff" },
    ".cm-panels": { backgroundColor: "#1e293b", color: "#e2e8f0" },
    ".cm-changedLine": { backgroundColor: "#064e3b66" },
    ".cm-deletedChunk": { backgroundColor: "#7f1d1d66" },
    ".cm-collapsedLines": { backgroundColor: "#1e293b", color: "#e2e8f0" },
  },
  { dark: true },
);

/** The look for the application's theme; above the base look, whatever the order of the extensions. */
export function themeFor(isDark: boolean): Extension {
  return Prec.high(isDark ? [dark, syntaxHighlighting(darkHighlight)] : syntaxHighlighting(lightHighlight));
}

/** A YAML editor's common extensions; ``label`` names it for screen readers. */
export function yamlBasics(label: string, readOnly: boolean): Extension {
  return [
    lineNumbers(),
    // The cursor's line is marked where one edits, not in a read-only view (a diff, a viewer's YAML).
    readOnly ? [] : [highlightActiveLineGutter(), highlightActiveLine()],
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightSelectionMatches(),
    EditorState.tabSize.of(2),
    yaml(),
    base,
    EditorState.readOnly.of(readOnly),
    EditorView.contentAttributes.of({ "aria-label": label }),
    // Tab indents; Escape then Tab (or Ctrl-M) leaves the editor, so the keyboard is never trapped.
    keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
  ];
}

/** A shadow root inside ``host`` for an editor. CodeMirror styles itself at run time: in a document it adds
 * <style> elements, which our Content-Security-Policy (style-src 'self', no inline styles) refuses; in a
 * shadow root it uses constructed style sheets (adoptedStyleSheets), which the policy allows. */
export function editorRoot(host: HTMLElement): ShadowRoot {
  return host.shadowRoot ?? host.attachShadow({ mode: "open" });
}
