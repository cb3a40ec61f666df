// The run timeline with hundreds and thousands of steps: only the rows in view are in the page, a far step is
// reached by scrolling or by the keyboard and opened, and steps arriving live are followed at the end.
// jsdom has no layout: a small one is given here (a 600 px high list, closed rows 42 px, open ones 300 px).
import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Step } from "@/features/runs/api/runs";
import { makeStep } from "@/test/fixtures";
import { StepTimeline } from "./step-timeline";

const VIEW_PX = 600;
const CLOSED_PX = 42;
const OPEN_PX = 300;

function isScroller(element: HTMLElement) {
  return element.firstElementChild?.matches("ol[aria-labelledby]") ?? false;
}

function rowHeight(element: HTMLElement) {
  if (!element.matches("li[data-index]")) return 0;
  return element.querySelector("details")?.open ? OPEN_PX : CLOSED_PX;
}

const layout: [string, PropertyDescriptor][] = [
  ["clientHeight", { get: function (this: HTMLElement) { return isScroller(this) ? VIEW_PX : 0; } }],
  ["clientWidth", { get: function (this: HTMLElement) { return isScroller(this) ? 800 : 0; } }],
  [
    "scrollHeight",
    {
      get: function (this: HTMLElement) {
        return isScroller(this) ? Math.max(VIEW_PX, parseFloat((this.firstElementChild as HTMLElement).style.height) || 0) : 0;
      },
    },
  ],
  ["offsetHeight", { get: function (this: HTMLElement) { return rowHeight(this); } }],
  [
    "scrollTo",
    {
      value: function (this: HTMLElement, options: ScrollToOptions) {
        const max = this.scrollHeight - this.clientHeight;
        this.scrollTop = Math.min(Math.max(0, options.top ?? this.scrollTop), Math.max(0, max));
        this.dispatchEvent(new Event("scroll"));
      },
    },
  ],
];
const saved = layout.map(([name]) => [name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name)] as const);

beforeAll(() => {
  for (const [name, descriptor] of layout) Object.defineProperty(HTMLElement.prototype, name, { ...descriptor, configurable: true });
});
afterAll(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else Reflect.deleteProperty(HTMLElement.prototype, name); // back to what Element gives
  }
});

function pings(count: number, from = 0): Step[] {
  return Array.from({ length: count }, (_, index) =>
    makeStep({
      seq: from + index,
      name: `ping [${from + index + 1}]`,
      response: { status: 200, reason: "OK", headers: {}, body: `{"ping": ${from + index + 1}}`, body_bytes: 12 },
    }),
  );
}

function timeline(steps: Step[], live = false) {
  return (
    <section>
      <h2 id="steps">Steps</h2>
      <StepTimeline steps={steps} live={live} labelledBy="steps" />
    </section>
  );
}

const list = () => screen.getByRole("list", { name: "Steps" });
const rows = () => within(list()).queryAllByRole("listitem");
const row = (name: string) => rows().find((item) => item.querySelector("summary")?.textContent?.includes(`${name}`));
const scroller = () => list().parentElement!;
const atEnd = () => scroller().scrollTop === scroller().scrollHeight - scroller().clientHeight;

async function scrollTo(top: number) {
  await act(async () => {
    scroller().scrollTo({ top });
  });
}

describe("a run timeline of many steps", { timeout: 90_000 }, () => {
  it.each([500, 5000])("keeps only the rows in view (and a few beyond) of %i steps in the page", (count) => {
    render(timeline(pings(count)));
    const shown = rows();
    expect(shown.length).toBeGreaterThan(VIEW_PX / (CLOSED_PX + 8)); // the view is full
    expect(shown.length).toBeLessThanOrEqual(Math.ceil(VIEW_PX / (CLOSED_PX + 8)) + 2 * 6 + 1);
    expect(shown[0]).toHaveAttribute("aria-posinset", "1");
    expect(shown[0]).toHaveAttribute("aria-setsize", String(count));
    expect(row(`ping [${count}]`)).toBeUndefined();
  });

  it("scrolls to a far step, opens it and shows its response", async () => {
    render(timeline(pings(500)));
    await scrollTo(479 * (CLOSED_PX + 8));
    const far = row("ping [480]");
    expect(far).toBeDefined();
    expect(row("ping [1]")).toBeUndefined(); // the top left the page
    expect(rows().length).toBeLessThanOrEqual(30);
    await userEvent.click(far!.querySelector("summary")!);
    expect(far!.querySelector("details")).toHaveAttribute("open");
    await userEvent.click(within(far!).getByRole("tab", { name: "Response" }));
    expect(within(far!).getByLabelText("Response body").textContent).toBe('{\n  "ping": 480\n}');

    // Scrolled away (the row leaves the page) and back: still open on its Response tab.
    act(() => (document.activeElement as HTMLElement).blur()); // the focus leaves the list: its row may go
    await scrollTo(0);
    expect(row("ping [480]")).toBeUndefined();
    await scrollTo(479 * (CLOSED_PX + 8));
    const again = row("ping [480]")!;
    expect(again.querySelector("details")).toHaveAttribute("open");
    expect(within(again).getByRole("tab", { name: "Response" })).toHaveAttribute("aria-selected", "true");
    expect(within(again).getByLabelText("Response body")).toHaveTextContent('"ping": 480');
  });

  it("is walked with the keyboard: End, ↑, Home; the focused row stays in the page", async () => {
    render(timeline(pings(500)));
    const first = row("ping [1]")!.querySelector("summary")!;
    act(() => first.focus());
    await userEvent.keyboard("{End}");
    expect(document.activeElement).toBe(row("ping [500]")!.querySelector("summary"));
    await userEvent.keyboard("{ArrowUp}{ArrowUp}");
    const summary = row("ping [498]")!.querySelector("summary")!;
    expect(document.activeElement).toBe(summary);
    expect(rows().length).toBeLessThanOrEqual(30);

    // Scrolled to the top by other means, the focused row is kept (focus is never lost to the page).
    await scrollTo(0);
    expect(row("ping [1]")).toBeDefined();
    expect(row("ping [498]")).toBeDefined();
    expect(document.activeElement).toBe(summary);
    await userEvent.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(row("ping [499]")!.querySelector("summary"));

    await userEvent.keyboard("{Home}");
    expect(document.activeElement).toBe(row("ping [1]")!.querySelector("summary"));
    expect(row("ping [499]")).toBeUndefined();
    await userEvent.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(row("ping [2]")!.querySelector("summary")); // Enter opens it: the browser's own

  });

  it("opens a live run at its end, follows new steps, once each, and stays put when the reader scrolled up", async () => {
    const frame = () => act(async () => void (await new Promise((done) => requestAnimationFrame(done))));
    const { rerender } = render(timeline(pings(100), true));
    await frame();
    expect(row("ping [100]")).toBeDefined(); // opened at its end
    expect(row("ping [1]")).toBeUndefined();
    expect(atEnd()).toBe(true);
    rerender(timeline(pings(101), true));
    await frame();
    expect(row("ping [101]")).toBeDefined();
    expect(atEnd()).toBe(true);
    rerender(timeline(pings(130), true)); // a burst
    await frame();
    expect(row("ping [130]")).toBeDefined();
    const seqs = rows().map((item) => item.dataset.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(rows().at(-1)).toHaveAttribute("aria-posinset", "130");
    expect(atEnd()).toBe(true);

    await scrollTo(0); // the reader goes up: new steps do not pull the list down
    rerender(timeline(pings(140), true));
    await frame();
    expect(row("ping [1]")).toBeDefined();
    expect(row("ping [140]")).toBeUndefined();
    expect(scroller().scrollTop).toBe(0);
    expect(rows()[0]).toHaveAttribute("aria-setsize", "140");

    await scrollTo(100_000); // back at the end; the last steps arrive with the run's end
    rerender(timeline(pings(150), false));
    await frame();
    expect(row("ping [150]")).toBeDefined();
    expect(atEnd()).toBe(true);
  });
});
