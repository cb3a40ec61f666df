// A run's steps as a virtualised list: only the rows in (and near) view are in the page, so a run of 500 or
// 5,000 steps scrolls as lightly as one of five. Rows are measured as they render (an open step is tall).
// What a row's user changed (open or closed, the tab shown) is kept here, since scrolling unmounts rows.
// A live run's list opens at its end; while it is scrolled to its end, new steps scroll into view (following
// the tail, the library's end anchoring); scrolled up, the list stays where the reader is.
import { defaultRangeExtractor, useVirtualizer, type Range } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent } from "react";
import type { Step } from "@/features/runs/api/runs";
import { opensAtFirst, StepItem, type StepTab } from "./step-item";

const CLOSED_ROW_PX = 42;
const OPEN_ROW_PX = 260;
const GAP_PX = 8;
/** Scrolled this close to the end still counts as following the tail. */
const NEAR_END_PX = 48;
const KEYS_HINT = "steps-keys";

type RowView = { open?: boolean; tab?: StepTab };

/** The row index a keyboard key moves to from `index`, or null when the key is not ours. */
function keyTarget(key: string, index: number, count: number): number | null {
  if (key === "ArrowDown") return Math.min(index + 1, count - 1);
  if (key === "ArrowUp") return Math.max(index - 1, 0);
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

function rowIndex(element: EventTarget): number | null {
  const row = (element as HTMLElement).closest?.<HTMLElement>("li[data-index]");
  return row ? Number(row.dataset.index) : null;
}

export function StepTimeline({ steps, live, labelledBy }: { steps: Step[]; live: boolean; labelledBy: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [views, setViews] = useState<ReadonlyMap<number, RowView>>(() => new Map());
  // The row holding focus stays mounted even when scrolled out of view, so focus is never lost to the page.
  const [focused, setFocused] = useState<number | null>(null);
  const focusNext = useRef<number | null>(null);
  const count = steps.length;
  // Following the tail lasts past the run's end (its last steps often arrive with the end itself), until the
  // reader opens, closes or moves to a step: then the top is the anchor, so an opened step grows downwards.
  const [tailing, setTailing] = useState(live);
  if (live && !tailing) setTailing(true);

  const isOpen = (step: Step) => views.get(step.seq)?.open ?? opensAtFirst(step);
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (focused === null || focused >= range.count || indexes.includes(focused)) return indexes;
      return [...indexes, focused].sort((a, b) => a - b);
    },
    [focused],
  );
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read while rendering, as designed
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => (steps[index] && isOpen(steps[index]) ? OPEN_ROW_PX : CLOSED_ROW_PX),
    getItemKey: (index) => steps[index]?.seq ?? index,
    overscan: 6,
    gap: GAP_PX,
    rangeExtractor,
    // Tailing, the end is the anchor: a step appended while the end is in view is scrolled to.
    anchorTo: tailing ? "end" : "start",
    followOnAppend: tailing,
    scrollEndThreshold: NEAR_END_PX,
    useFlushSync: false, // React batches the scroll updates itself (flushSync from an effect only warns)
  });

  // A live run opens at its latest step (as `tail -f`), so the steps to come are followed.
  const openedLive = useRef(live);
  useLayoutEffect(() => {
    if (openedLive.current) virtualizer.scrollToEnd();
  }, [virtualizer]);

  // Focus moved by the keyboard lands once its row is rendered.
  useEffect(() => {
    if (focusNext.current === null) return;
    const summary = scroller.current?.querySelector<HTMLElement>(`li[data-index="${focusNext.current}"] > details > summary`);
    if (summary) {
      focusNext.current = null;
      summary.focus({ preventScroll: true });
    }
  });

  const setView = (seq: number, change: RowView) => {
    if (!live) setTailing(false);
    setViews((current) => new Map(current).set(seq, { ...current.get(seq), ...change }));
  };

  function onKeyDown(event: KeyboardEvent<HTMLOListElement>) {
    const target = event.target as HTMLElement;
    if (target.tagName !== "SUMMARY") return; // keys inside an open step (its tabs) are theirs
    const index = rowIndex(target);
    const next = index === null ? null : keyTarget(event.key, index, count);
    if (next === null) return;
    event.preventDefault();
    if (!live) setTailing(false);
    focusNext.current = next;
    setFocused(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  }

  function onFocus(event: FocusEvent<HTMLOListElement>) {
    const index = rowIndex(event.target);
    if (index !== null && index !== focused) setFocused(index);
  }

  function onBlur(event: FocusEvent<HTMLOListElement>) {
    if (!event.currentTarget.contains(event.relatedTarget)) setFocused(null); // left the list: nothing to keep
  }

  return (
    <>
      <p id={KEYS_HINT} className="text-xs text-slate-600 dark:text-slate-300">
        On a step: ↑ ↓ move between steps, Home and End go to the first and the last, Enter opens or closes it.
      </p>
      <div ref={scroller} className="max-h-[70vh] overflow-y-auto">
        <ol
          aria-labelledby={labelledBy}
          aria-describedby={KEYS_HINT}
          onKeyDown={onKeyDown}
          onFocus={onFocus}
          onBlur={onBlur}
          className="relative"
          style={{ height: virtualizer.getTotalSize() }}
        >
          {virtualizer.getVirtualItems().map((row) => {
            const step = steps[row.index];
            if (!step) return null;
            const view = views.get(step.seq);
            return (
              <StepItem
                key={row.key}
                ref={virtualizer.measureElement}
                data-index={row.index}
                data-seq={step.seq}
                aria-posinset={row.index + 1}
                aria-setsize={count}
                className="absolute top-0 left-0 w-full"
                style={{ transform: `translateY(${row.start}px)` }}
                step={step}
                open={isOpen(step)}
                onOpenChange={(open) => {
                  if (open !== isOpen(step)) setView(step.seq, { open });
                }}
                tab={view?.tab ?? "checks"}
                onTabChange={(tab) => setView(step.seq, { tab })}
              />
            );
          })}
        </ol>
      </div>
    </>
  );
}
