// "Explain this failure" on a failed run's page: the assistant's summary, its findings with citations that
// lead to the evidence, the evidence as text (whatever the SUT wrote in it); a 503 says the assistant is away.
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { makeRun } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const RUN = "44444444-4444-4444-8444-444444444444";
const XSS = "<script>alert(1)</script>";

function renderAt(url: string) {
  renderAppAt(url);
}

describe("explaining a failure", { timeout: 20_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("shows the findings with their cited evidence, as text", async () => {
    let asked = 0;
    server.use(
      http.get(`*/api/v1/runs/${RUN}`, () => HttpResponse.json(makeRun({ id: RUN, status: "FAILED" }))),
      http.post(`*/api/v1/runs/${RUN}/explain`, () => {
        asked += 1;
        return HttpResponse.json({
          run_id: RUN,
          summary: "The price check failed: the SUT answered 9.99 where 10 was expected.",
          findings: [{ text: "The step 'get price' got a different price [E1]", citations: ["E1", "E9"] }],
          evidence: [{ id: "E1", kind: "check", title: "json $.price", excerpt: `expected 10, got 9.99 ${XSS}` }],
          model: null,
        });
      }),
    );
    renderAt(`/runs/${RUN}`);
    await userEvent.click(await screen.findByRole("button", { name: "Explain this failure" }));
    expect(await screen.findByText(/The price check failed/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "[E1]" })).toHaveAttribute("href", "#evidence-E1");
    expect(screen.queryByRole("link", { name: "[E9]" })).not.toBeInTheDocument(); // cited but not given
    expect(screen.getByText(`expected 10, got 9.99 ${XSS}`)).toBeInTheDocument();
    expect(document.querySelector("script")).toBeNull();
    expect(screen.getByText("Built from the evidence above (no model).")).toBeInTheDocument();
    expect(screen.getByText("The step 'get price' got a different price")).toBeInTheDocument(); // the mark is the link
    expect(asked).toBe(1);
  });

  it("says when the assistant is not available", async () => {
    server.use(
      http.get(`*/api/v1/runs/${RUN}`, () => HttpResponse.json(makeRun({ id: RUN, status: "ERROR" }))),
      http.post(`*/api/v1/runs/${RUN}/explain`, () =>
        HttpResponse.json({ title: "Service Unavailable", status: 503, detail: "the ai-service did not answer" }, { status: 503 }),
      ),
    );
    renderAt(`/runs/${RUN}`);
    await userEvent.click(await screen.findByRole("button", { name: "Explain this failure" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The assistant is not available: the ai-service did not answer");
  });

  it("is not offered for a passed run", async () => {
    server.use(http.get(`*/api/v1/runs/${RUN}`, () => HttpResponse.json(makeRun({ id: RUN, status: "PASSED" }))));
    renderAt(`/runs/${RUN}`);
    expect(await screen.findByRole("heading", { name: "order can be paid" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Explain this failure" })).not.toBeInTheDocument();
  });
});
