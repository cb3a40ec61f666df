// Class names the screens share (links, muted text, selects).
export const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500";
export const linkClass =
  "font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";
export const mutedClass = "text-slate-600 dark:text-slate-300";
