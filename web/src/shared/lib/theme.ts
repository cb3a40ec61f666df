// Light or dark: the visitor's choice (localStorage), else the system's.
import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark";
const KEY = "orchestra.theme";
const listeners = new Set<() => void>();

function systemTheme(): Theme {
  return globalThis.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function currentTheme(): Theme {
  const chosen = localStorage.getItem(KEY);
  return chosen === "light" || chosen === "dark" ? chosen : systemTheme();
}

export function applyTheme(theme: Theme = currentTheme()): void {
  document.documentElement.classList.toggle("dark", theme === "dark");
  document.documentElement.style.colorScheme = theme;
}

export function setTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  // Switch at once: without this, every control with a colour transition fades through grey for a moment.
  const root = document.documentElement;
  root.classList.add("theme-switching");
  applyTheme(theme);
  requestAnimationFrame(() => requestAnimationFrame(() => root.classList.remove("theme-switching")));
  for (const listener of listeners) listener();
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    currentTheme,
  );
}
