import type { QueryClient } from "@tanstack/react-query";
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  Outlet,
  redirect,
  useNavigate,
  type RouterHistory,
} from "@tanstack/react-router";
import { useCallback } from "react";
import { parseAuditSearch } from "@/features/audit/api/audit";
import { parseFailureGroupsSearch } from "@/features/insights/api/failure-groups";
import { parseCompareSearch } from "@/features/insights/api/insights";
import { SignInForm } from "@/features/auth/components/sign-in-form";
import { SignOnCallback } from "@/features/auth/components/sign-on-callback";
import { OverviewPage } from "@/features/overview/components/overview-page";
import { parseRunsSearch } from "@/features/runs/api/runs";
import { RunDetail } from "@/features/runs/components/run-detail";
import { RunsPage } from "@/features/runs/components/runs-page";
import { parseSuiteRunsSearch } from "@/features/runs/api/suite-runs";
import { SuiteRunDetail } from "@/features/runs/components/suite-run-detail";
import { SuiteRunsPage } from "@/features/runs/components/suite-runs-page";
import { parseSuitesSearch } from "@/features/suites/api/suites";
import { SuitePage } from "@/features/suites/components/suite-page";
import { SuitesPage } from "@/features/suites/components/suites-page";
import { parseTestCaseSearch, parseTestCasesSearch } from "@/features/testcases/api/testcases";
import { NewTestCasePage } from "@/features/testcases/components/new-testcase-page";
import { TestCasePage } from "@/features/testcases/components/testcase-page";
import { TestCasesPage } from "@/features/testcases/components/testcases-page";
import { session } from "@/shared/auth/session";
import { CALLBACK_PATH, isSafeNext, safeNext } from "@/shared/auth/sign-on";
import { SignOnProvider } from "@/shared/auth/sign-on-provider";
import { lazyScreen } from "./lazy-screen";
import { AppLayout } from "./layout";

const AuditPage = lazyScreen(() => import("@/features/audit/components/audit-page").then((m) => m.AuditPage));
const EnvironmentsPage = lazyScreen(() =>
  import("@/features/environments/components/environments-page").then((m) => m.EnvironmentsPage),
);
const EnvironmentEditor = lazyScreen(() =>
  import("@/features/environments/components/environment-editor").then((m) => m.EnvironmentEditor),
);
const LimitsPage = lazyScreen(() => import("@/features/limits/components/limits-page").then((m) => m.LimitsPage));
const SchedulesPage = lazyScreen(() =>
  import("@/features/schedules/components/schedules-page").then((m) => m.SchedulesPage),
);
const SchedulePage = lazyScreen(() => import("@/features/schedules/components/schedule-page").then((m) => m.SchedulePage));
const TestCaseResults = lazyScreen(() =>
  import("@/features/insights/components/test-case-results").then((m) => m.TestCaseResults),
);
const RunComparison = lazyScreen(() =>
  import("@/features/insights/components/run-comparison").then((m) => m.RunComparison),
);
const FailureGroupsPage = lazyScreen(() =>
  import("@/features/insights/components/failure-groups-page").then((m) => m.FailureGroupsPage),
);
const KnowledgePage = lazyScreen(() =>
  import("@/features/knowledge/components/knowledge-page").then((m) => m.KnowledgePage),
);
const TokensPage = lazyScreen(() => import("@/features/tokens/components/tokens-page").then((m) => m.TokensPage));

type Context = { queryClient: QueryClient };

/** Every page, under single sign-on's provider when it is configured. Back from the provider, the page the
 * visitor was going to replaces the callback's entry (and its code) in the history. */
function Root() {
  const navigate = useNavigate();
  const signedOn = useCallback((next: string) => navigate({ href: next, replace: true }), [navigate]);
  return (
    <SignOnProvider onSignedOn={signedOn}>
      <Outlet />
    </SignOnProvider>
  );
}

const rootRoute = createRootRouteWithContext<Context>()({
  component: Root,
  notFoundComponent: () => <p className="p-6">There is no such page.</p>,
});

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  // The router merges the raw search into the validated one: a refused ``next`` is overwritten, not left out.
  validateSearch: (search: Record<string, unknown>): { next?: string } => ({
    next: typeof search.next === "string" && isSafeNext(search.next) ? search.next : undefined,
  }),
  component: function SignInScreen() {
    const next = safeNext(signInRoute.useSearch().next);
    const navigate = useNavigate();
    return <SignInForm next={next} onSignedIn={() => void navigate({ href: next, replace: true })} />;
  },
});

/** Back from single sign-on's provider (the redirect URI registered for the web application's client). */
const signOnCallbackRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: CALLBACK_PATH,
  component: SignOnCallback,
});

/** Every screen behind it needs a signed-in visitor; the others go to the sign-in page and come back. */
const signedInRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "signed-in",
  beforeLoad: ({ location }) => {
    if (session.accessToken() === null) {
      throw redirect({ to: "/sign-in", search: { next: location.href } });
    }
  },
  component: AppLayout,
});

const overviewRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/",
  component: OverviewPage,
});

const runsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/runs",
  validateSearch: parseRunsSearch,
  component: function RunsScreen() {
    const search = runsRoute.useSearch();
    const navigate = useNavigate({ from: "/runs" });
    return <RunsPage search={search} onSearchChange={(next) => void navigate({ search: next })} />;
  },
});

const suiteRunsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/suite-runs",
  validateSearch: parseSuiteRunsSearch,
  component: function SuiteRunsScreen() {
    const search = suiteRunsRoute.useSearch();
    const navigate = useNavigate({ from: "/suite-runs" });
    return <SuiteRunsPage search={search} onSearchChange={(next) => void navigate({ search: next })} />;
  },
});

const suiteRunRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/suite-runs/$suiteRunId",
  component: function SuiteRunScreen() {
    const { suiteRunId } = suiteRunRoute.useParams();
    return <SuiteRunDetail key={suiteRunId} suiteRunId={suiteRunId} />;
  },
});

const runRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/runs/$runId",
  component: function RunScreen() {
    const { runId } = runRoute.useParams();
    return <RunDetail key={runId} runId={runId} />;
  },
});

const compareRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/runs/$runId/compare",
  validateSearch: parseCompareSearch,
  component: function CompareScreen() {
    const { runId } = compareRoute.useParams();
    const search = compareRoute.useSearch();
    return <RunComparison key={`${runId}/${search.with}`} runId={runId} other={search.with} />;
  },
});

const failureGroupsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/failure-groups",
  validateSearch: parseFailureGroupsSearch,
  component: function FailureGroupsScreen() {
    const search = failureGroupsRoute.useSearch();
    const navigate = useNavigate({ from: "/failure-groups" });
    const onSearchChange = useCallback(
      (next: typeof search, replace?: boolean) => void navigate({ search: next, replace }),
      [navigate],
    );
    return <FailureGroupsPage search={search} onSearchChange={onSearchChange} />;
  },
});

// Administration: environments and schedules of a project (chosen in the URL), limits, tokens, audit log.
const parseProject = (search: Record<string, unknown>): { project?: string } =>
  typeof search.project === "string" && search.project.trim() ? { project: search.project.trim() } : {};

const environmentsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/environments",
  validateSearch: parseProject,
  component: function EnvironmentsScreen() {
    const { project } = environmentsRoute.useSearch();
    const navigate = useNavigate({ from: "/environments" });
    return <EnvironmentsPage project={project} onProjectChange={(next) => void navigate({ search: { project: next } })} />;
  },
});

const environmentRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/environments/$project/$environment",
  component: function EnvironmentScreen() {
    const { project, environment } = environmentRoute.useParams();
    return <EnvironmentEditor key={`${project}/${environment}`} project={project} name={environment} />;
  },
});

const schedulesRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/schedules",
  validateSearch: parseProject,
  component: function SchedulesScreen() {
    const { project } = schedulesRoute.useSearch();
    const navigate = useNavigate({ from: "/schedules" });
    return <SchedulesPage project={project} onProjectChange={(next) => void navigate({ search: { project: next } })} />;
  },
});

const scheduleRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/schedules/$project/$schedule",
  component: function ScheduleScreen() {
    const { project, schedule } = scheduleRoute.useParams();
    return <SchedulePage key={`${project}/${schedule}`} project={project} name={schedule} />;
  },
});

const assistantRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/assistant",
  validateSearch: parseProject,
  component: function AssistantScreen() {
    const { project } = assistantRoute.useSearch();
    const navigate = useNavigate({ from: "/assistant" });
    return <KnowledgePage project={project} onProjectChange={(next) => void navigate({ search: { project: next } })} />;
  },
});

const limitsRoute = createRoute({ getParentRoute: () => signedInRoute, path: "/limits", component: LimitsPage });
const tokensRoute = createRoute({ getParentRoute: () => signedInRoute, path: "/tokens", component: TokensPage });

const auditRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/audit",
  validateSearch: parseAuditSearch,
  component: function AuditScreen() {
    const search = auditRoute.useSearch();
    const navigate = useNavigate({ from: "/audit" });
    return <AuditPage search={search} onSearchChange={(next) => void navigate({ search: next })} />;
  },
});

const testCasesRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/test-cases",
  validateSearch: parseTestCasesSearch,
  component: function TestCasesScreen() {
    const search = testCasesRoute.useSearch();
    const navigate = useNavigate({ from: "/test-cases" });
    return <TestCasesPage search={search} onSearchChange={(next, replace) => void navigate({ search: next, replace })} />;
  },
});

const newTestCaseRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/test-cases/new",
  validateSearch: (search: Record<string, unknown>): { project: string } => ({
    project: typeof search.project === "string" ? search.project : "",
  }),
  component: function NewTestCaseScreen() {
    const { project } = newTestCaseRoute.useSearch();
    return <NewTestCasePage project={project} />;
  },
});

const testCaseRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/test-cases/$project/$name",
  validateSearch: parseTestCaseSearch,
  component: function TestCaseScreen() {
    const { project, name } = testCaseRoute.useParams();
    const search = testCaseRoute.useSearch();
    const navigate = useNavigate({ from: "/test-cases/$project/$name" });
    return (
      <TestCasePage
        key={`${project}/${name}`}
        project={project}
        name={name}
        search={search}
        onSearchChange={(next) => void navigate({ search: next })}
        results={<TestCaseResults project={project} testCase={name} />}
      />
    );
  },
});

const suitesRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/suites",
  validateSearch: parseSuitesSearch,
  component: function SuitesScreen() {
    const search = suitesRoute.useSearch();
    const navigate = useNavigate({ from: "/suites" });
    return <SuitesPage search={search} onSearchChange={(next, replace) => void navigate({ search: next, replace })} />;
  },
});

const suiteRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/suites/$project/$name",
  component: function SuiteScreen() {
    const { project, name } = suiteRoute.useParams();
    return <SuitePage project={project} name={name} />;
  },
});

const routeTree = rootRoute.addChildren([
  signInRoute,
  signOnCallbackRoute,
  signedInRoute.addChildren([
    overviewRoute,
    runsRoute,
    suiteRunsRoute,
    suiteRunRoute,
    runRoute,
    compareRoute,
    failureGroupsRoute,
    environmentsRoute,
    environmentRoute,
    schedulesRoute,
    scheduleRoute,
    assistantRoute,
    limitsRoute,
    tokensRoute,
    auditRoute,
    testCasesRoute,
    newTestCaseRoute,
    testCaseRoute,
    suitesRoute,
    suiteRoute,
  ]),
]);

export function makeRouter(queryClient: QueryClient, history?: RouterHistory) {
  return createRouter({ routeTree, context: { queryClient }, defaultPreload: "intent", ...(history ? { history } : {}) });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof makeRouter>;
  }
}
