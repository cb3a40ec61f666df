// The editor panel against the API as MSW answers it: what is sent on saving, the API's problems handed to
// the editor and listed at their line, the refusal of a stale save, and a viewer offered no save. The
// CodeMirror editor itself (which needs a real browser's layout) stands in as a plain text area here; the
// browser tests drive the real one.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { useEffect, useRef } from "react";
import { serverProblems } from "@/features/testcases/api/yaml-problems";
import { server } from "@/test/server";
import { TestCaseEditorPanel } from "./testcase-editor-panel";
import type { YamlEditorProps } from "./yaml-editor";

vi.mock("./yaml-editor", () => ({
  default: function PlainEditor({ initial, server: fromServer, readOnly, label, onChange, onProblems }: YamlEditorProps) {
    const report = useRef(onProblems);
    useEffect(() => {
      report.current = onProblems;
    });
    useEffect(() => {
      report.current(fromServer ? serverProblems(initial, fromServer.issues) : [], undefined);
    }, [fromServer, initial]);
    return <textarea aria-label={label} defaultValue={initial} readOnly={readOnly} onChange={(event) => onChange(event.target.value)} />;
  },
}));

const TEXT = 'name: health\nsteps:\n  - request: {url: x}\n    expect:\n      json:\n        $.a: {matches: "("}\n';

function renderPanel(canEdit = true) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <TestCaseEditorPanel project="shop" name="health" initial={TEXT} baseVersion={3} schema={undefined} canEdit={canEdit} onSaved={() => undefined} onReload={() => undefined} />
    </QueryClientProvider>,
  );
}

async function edit(text: string) {
  fireEvent.change(await screen.findByLabelText("YAML of test case health"), { target: { value: text } });
}

function problem(status: number, detail: string, errors: unknown[] = []) {
  return HttpResponse.json(
    { type: "about:blank", title: "Refused", status, detail, errors },
    { status, headers: { "content-type": "application/problem+json" } },
  );
}

describe("saving a test case from the editor", () => {
  it("sends the text with the version it was opened at, and lists the API's problems at their line", async () => {
    const sent: unknown[] = [];
    server.use(
      http.put("*/api/v1/projects/shop/test-cases/health/yaml", async ({ request }) => {
        sent.push(await request.json());
        return problem(422, "the test case is invalid", [
          { path: "steps[0].expect.json['$.a'].matches", line: 6, column: 23, message: "invalid regular expression '('" },
        ]);
      }),
    );
    renderPanel();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled(); // nothing changed yet
    await edit(`${TEXT}# changed\n`);
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Not saved: the test case is invalid");
    expect(sent).toEqual([{ content: `${TEXT}# changed\n`, base_version: 3 }]);
    const listed = await screen.findByRole("button", { name: /Line 6, column 23: invalid regular expression/ });
    expect(listed).toHaveTextContent("from the server");
  });

  it("says when the test case changed meanwhile, and offers the current version", async () => {
    server.use(
      http.put("*/api/v1/projects/shop/test-cases/health/yaml", () =>
        problem(409, "test case 'health' changed since version 3: it is at version 4 now"),
      ),
    );
    renderPanel();
    await edit(`${TEXT}# changed\n`);
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("it is at version 4 now");
    expect(screen.getByRole("button", { name: "Load the current version" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download my text" })).toBeInTheDocument();
  });

  it("reports the saved version", async () => {
    server.use(
      http.put("*/api/v1/projects/shop/test-cases/health/yaml", () =>
        HttpResponse.json({ name: "health", version: 4, changed: true, result: "updated", current_version: 4 }),
      ),
    );
    renderPanel();
    await edit(`${TEXT}# changed\n`);
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved as version 4.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save" })).toBeDisabled();
  });

  it("offers a viewer no save, and a read-only editor", async () => {
    renderPanel(false);
    expect(await screen.findByLabelText("YAML of test case health")).toHaveAttribute("readonly");
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(screen.getByText(/saving needs the editor role/)).toBeInTheDocument();
  });
});
