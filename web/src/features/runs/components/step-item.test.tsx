import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { makeStep } from "@/test/fixtures";
import { StepItem } from "./step-item";

const HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="window.__pwned=1">'];

describe("a step's request and response", () => {
  it.each(HOSTILE)("shows a hostile SUT body %s as text, never as HTML", async (body) => {
    const step = makeStep({
      status: "failed",
      response: { status: 200, reason: "OK", headers: { "x-evil": body }, body, body_bytes: body.length },
    });
    const { container } = render(
      <ol>
        <StepItem step={step} />
      </ol>,
    );
    await userEvent.click(screen.getByRole("tab", { name: "Response" }));
    expect(screen.getByLabelText("Response body")).toHaveTextContent(body);
    expect(screen.getByLabelText("Response headers")).toHaveTextContent(`x-evil: ${body}`);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("pretty-prints a JSON body and shows the request line", async () => {
    render(
      <ol>
        <StepItem step={makeStep({ status: "failed" })} />
      </ol>,
    );
    await userEvent.click(screen.getByRole("tab", { name: "Request" }));
    expect(screen.getByText("GET http://sut.test/orders/1")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("tab", { name: "Response" }));
    expect(screen.getByLabelText("Response body").textContent).toBe('{\n  "id": 1\n}');
  });
});

describe("a step's checks", () => {
  it("shows every check with what was expected and what was got", () => {
    const step = makeStep({
      status: "failed",
      assertions: [
        { check: "status", passed: false, expected: 201, actual: 200, message: "expected 201, got 200" },
        { check: "json $.status", passed: true, expected: "pending", actual: "pending", message: "" },
        { check: "json $.items", passed: false, expected: { length: 2 }, actual: ["a"], message: "length 1" },
      ],
    });
    render(
      <ol>
        <StepItem step={step} />
      </ol>,
    );
    expect(screen.getByText(/3 checks, 2 failed/)).toBeInTheDocument();
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    const cells = rows.map((row) => within(row).getAllByRole("cell").map((cell) => cell.textContent));
    expect(cells).toEqual([
      ["failed", "201", "200"],
      ["passed", "pending", "pending"],
      ["failed", '{\n  "length": 2\n}', '[\n  "a"\n]'],
    ]);
    expect(within(rows[0]!).getByRole("rowheader")).toHaveTextContent("statusexpected 201, got 200");
  });

  it("shows a check skipped by the status gate apart from the failed ones, with its reason and name", () => {
    const step = makeStep({
      status: "failed",
      assertions: [
        { check: "status", passed: false, outcome: "failed", expected: 200, actual: 401, message: "status: got 401" },
        {
          check: "json $.items",
          name: "a list of items",
          passed: false,
          outcome: "skipped",
          reason: "status check failed",
          expected: { type: "array" },
          actual: null,
          message: "[a list of items] $.items: skipped",
        },
      ],
    });
    render(
      <ol>
        <StepItem step={step} />
      </ol>,
    );
    expect(screen.getByText(/2 checks, 1 failed, 1 skipped/)).toBeInTheDocument();
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    expect(within(rows[1]!).getAllByRole("cell")[0]).toHaveTextContent("skipped");
    expect(within(rows[1]!).getByRole("rowheader")).toHaveTextContent(
      "a list of itemsjson $.itemsskipped: status check failed",
    );
  });

  it("opens a failed step and leaves a passed one closed", () => {
    render(
      <ol>
        <StepItem step={makeStep({ name: "ok", status: "passed" })} />
        <StepItem step={makeStep({ seq: 1, name: "bad", status: "failed" })} />
      </ol>,
    );
    const [passed, failed] = screen.getAllByRole("group");
    expect(passed).not.toHaveAttribute("open");
    expect(failed).toHaveAttribute("open");
  });
});

describe("a skipped step", () => {
  it("says why it was skipped, apart from an error", () => {
    const reason = "the run stopped: step 'log in': status: expected 200, got 500";
    render(
      <ol>
        <StepItem step={makeStep({ status: "skipped", error: reason })} />
      </ol>,
    );
    const said = screen.getByText(`skipped: ${reason}`);
    expect(said).toBeInTheDocument();
    expect(said.className).not.toContain("text-red");
  });
});
