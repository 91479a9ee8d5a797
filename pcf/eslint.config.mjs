// pcf-scripts lints the control's folder on every build with this configuration.
import eslintjs from "@eslint/js";
import microsoftPowerApps from "@microsoft/eslint-plugin-power-apps";
import reactPlugin from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import typescriptEslint from "typescript-eslint";

export default [
  { ignores: ["**/generated", "out/**", "harness/dist/**", "harness-inbox/dist/**", "node_modules/**"] },
  eslintjs.configs.recommended,
  ...typescriptEslint.configs.recommendedTypeChecked,
  microsoftPowerApps.configs.paCheckerHosted,
  reactPlugin.configs.flat.recommended,
  {
    plugins: { "@microsoft/power-apps": microsoftPowerApps, "react-hooks": reactHooks },
    languageOptions: {
      globals: { ...globals.browser, ComponentFramework: true },
      parserOptions: { ecmaVersion: 2020, sourceType: "module", projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { react: { version: "16.14" } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "react/prop-types": "off",
    },
  },
];
