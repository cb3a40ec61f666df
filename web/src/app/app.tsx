import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { ApiError } from "@/shared/api/client";
import { session, useSignedIn } from "@/shared/auth/session";
import { makeRouter } from "./router";

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 2000,
        retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
      },
    },
  });
}

export function App() {
  const [queryClient] = useState(makeQueryClient);
  const [router] = useState(() => makeRouter(queryClient));
  const signedIn = useSignedIn();
  useEffect(() => {
    // Signed out (the button, or a token the API refused): forget what was read, back to the sign-in page.
    if (!signedIn && session.accessToken() === null && router.state.location.pathname !== "/sign-in") {
      queryClient.clear();
      void router.invalidate();
    }
  }, [signedIn, queryClient, router]);
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
