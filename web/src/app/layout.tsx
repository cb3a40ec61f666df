import { Link, Outlet } from "@tanstack/react-router";
import { SignOut } from "@/features/auth/components/sign-out-button";
import { hasRole, useMe } from "@/shared/auth/me";
import { setTheme, useTheme } from "@/shared/lib/theme";
import { Button } from "@/shared/ui/button";

const navLink =
  "whitespace-nowrap rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-200 dark:hover:bg-slate-800 data-[status=active]:bg-slate-200 dark:data-[status=active]:bg-slate-700";

function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <Button variant="ghost" onClick={() => setTheme(next)} aria-label={`Switch to the ${next} theme`} title={`${next} theme`}>
      <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
    </Button>
  );
}

/** The frame of every signed-in screen: navigation, theme, sign-out. */
export function AppLayout() {
  const me = useMe();
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-slate-900"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl items-center gap-4 px-4 py-2">
          <span className="font-semibold tracking-tight">Orchestra</span>
          <nav aria-label="Main" className="flex flex-wrap gap-0.5">
            <Link to="/" className={navLink} activeOptions={{ exact: true }}>
              Overview
            </Link>
            <Link to="/runs" search={{ page: 1 }} className={navLink}>
              Runs
            </Link>
            <Link to="/suite-runs" search={{ page: 1 }} className={navLink}>
              Suite runs
            </Link>
            <Link to="/test-cases" search={{ page: 1 }} className={navLink}>
              Test cases
            </Link>
            <Link to="/suites" className={navLink}>
              Suites
            </Link>
            <Link to="/environments" search={{}} className={navLink}>
              Environments
            </Link>
            <Link to="/schedules" search={{}} className={navLink}>
              Schedules
            </Link>
            <Link to="/assistant" search={{}} className={navLink}>
              Assistant
            </Link>
            <Link to="/limits" className={navLink}>
              Limits
            </Link>
            {me?.manages_tokens ? (
              <Link to="/tokens" className={navLink}>
                Tokens
              </Link>
            ) : null}
            {hasRole(me, "admin") ? (
              <Link to="/audit" search={{ page: 1 }} className={navLink}>
                Audit
              </Link>
            ) : null}
          </nav>
          <div className="ml-auto flex shrink-0 items-center gap-2">
            <ThemeToggle />
            {me ? (
              <span
                className="max-w-36 truncate text-sm whitespace-nowrap text-slate-600 dark:text-slate-300"
                title={`${me.name} (signed in with ${me.kind})`}
              >
                {me.name}
              </span>
            ) : null}
            <SignOut />
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
