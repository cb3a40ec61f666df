import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterAll, afterEach, beforeAll } from "vitest";
import { server } from "./server";

// A busy machine (CI, parallel sessions) can take seconds to render a screen: findBy* and waitFor wait up to
// 10 s (instead of 1 s) for what must appear; a test still fails when it never does.
configure({ asyncUtilTimeout: 10_000 });

// jsdom has no layout: the router's scroll restoration would log "not implemented" on every navigation.
window.scrollTo = () => undefined;

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  sessionStorage.clear();
});
afterAll(() => server.close());
