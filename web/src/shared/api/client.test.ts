import { ApiError, unwrap } from "./client";

const answer = (status: number, body?: unknown) => new Response(body === undefined ? null : JSON.stringify(body), { status });

describe("unwrapping an API answer", () => {
  it("gives the data, and nothing for a 204", async () => {
    expect(await unwrap(Promise.resolve({ data: { id: 1 }, response: answer(200, { id: 1 }) }))).toEqual({ id: 1 });
    expect(await unwrap(Promise.resolve({ data: undefined, response: answer(204) }))).toBeUndefined();
  });

  it("turns a problem into an ApiError with its detail and its well-formed errors", async () => {
    const problem = {
      title: "Invalid input",
      status: 422,
      detail: "cron: invalid cron expression",
      errors: [{ location: "cron", message: "invalid cron expression" }, "not an entry", { location: "x" }],
    };
    const error = await unwrap(Promise.resolve({ error: problem, response: answer(422, problem) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, message: "cron: invalid cron expression" });
    expect((error as ApiError).errors).toEqual([{ location: "cron", message: "invalid cron expression" }]);
  });

  it("names the status when the answer is no problem", async () => {
    const error = await unwrap(Promise.resolve({ error: "<html>", response: new Response("<html>", { status: 502, statusText: "Bad Gateway" }) })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 502, message: "502 Bad Gateway", errors: [] });
  });
});
