/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build goes into the Python package, which serves it at / (src/orchestra/web.py).
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL("../src/orchestra/web_dist", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URLs for scripts; the CSP allows only our own files
  },
  server: {
    proxy: { "/api": { target: process.env.ORCHESTRA_URL ?? "http://127.0.0.1:8000", changeOrigin: true } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.ts"],
    css: false,
    testTimeout: 30_000, // see src/test/setup.ts: a loaded machine is slow, not wrong
  },
});
