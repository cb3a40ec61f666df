import { lazy, Suspense, type ComponentType, type JSX } from "react";

/** A screen loaded when it is first shown, so the administration screens (and what they alone use, such as
 * the cron reader) stay out of the JavaScript every visit loads. */
export function lazyScreen<P extends object>(load: () => Promise<ComponentType<P>>): (props: P) => JSX.Element {
  const Screen = lazy(async () => ({ default: await load() }));
  return function LazyScreen(props: P) {
    return (
      <Suspense fallback={<p className="text-slate-600 dark:text-slate-300">Loading…</p>}>
        <Screen {...props} />
      </Suspense>
    );
  };
}
