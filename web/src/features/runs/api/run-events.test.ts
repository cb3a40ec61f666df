import { makeStep } from "@/test/fixtures";
import { mergeStep } from "./run-events";

describe("merging live steps", () => {
  it("keeps steps in seq order and never shows one twice", () => {
    const first = makeStep({ seq: 0, name: "a" });
    const second = makeStep({ seq: 1, name: "b" });
    const again = makeStep({ seq: 1, name: "b (resent after a reconnect)" });
    const data = makeStep({ seq: -1, name: "create customer", phase: "data" });
    const steps = mergeStep(mergeStep(mergeStep(mergeStep([], second), first), again), data);
    expect(steps.map((step) => step.name)).toEqual(["create customer", "a", "b (resent after a reconnect)"]);
  });
});
