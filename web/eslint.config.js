import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

// One-way imports, as bulletproof-react: app → features → shared. A feature never imports another
// feature (what two features share moves to shared/), and shared/ never imports a feature or the app.
const noAppImports = { group: ["@/app", "@/app/*"], message: "Only the app imports the app." };
const noFeatureImports = {
  group: ["@/features", "@/features/*"],
  message: "shared/ is below the features: move what both need into shared/.",
};
const relativeEscapes = {
  group: ["../*"],
  message: "Import across folders with the @/ alias, so the layer rules can see it.",
};

const featureRules = (feature) => ({
  files: [`src/features/${feature}/**/*.{ts,tsx}`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          noAppImports,
          relativeEscapes,
          {
            group: ["@/features/*", `!@/features/${feature}`],
            message: "A feature never imports another feature: move what both need into shared/.",
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["dist", "playwright-report", "test-results", "artifacts", "src/shared/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // What a SUT answered is data shown as text; nothing in the app renders HTML from a string.
      "no-restricted-syntax": [
        "error",
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: "Render text, never HTML: SUT data is hostile.",
        },
      ],
    },
  },
  {
    files: ["src/shared/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [noAppImports, noFeatureImports, relativeEscapes] }],
    },
  },
  featureRules("auth"),
  featureRules("runs"),
  featureRules("overview"),
  featureRules("environments"),
  featureRules("schedules"),
  featureRules("tokens"),
  featureRules("audit"),
  featureRules("limits"),
  featureRules("testcases"),
  featureRules("suites"),
  featureRules("insights"),
  featureRules("knowledge"),
  { files: ["**/*.test.{ts,tsx}", "e2e/**/*.ts"], rules: { "@typescript-eslint/no-non-null-assertion": "off" } },
  { files: ["scripts/**/*.mjs", "*.config.{js,ts}", "e2e/**/*.ts"], languageOptions: { globals: globals.node } },
);
