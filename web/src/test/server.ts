import { setupServer } from "msw/node";

/** The API, as MSW answers it in component tests; each test adds the handlers it needs. */
export const server = setupServer();
