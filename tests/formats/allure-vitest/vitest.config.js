import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["shop.test.js"],
    setupFiles: ["allure-vitest/setup"],
    reporters: [
      "default",
      ["allure-vitest/reporter", { resultsDir: process.env.ALLURE_RESULTS_DIR ?? "allure-results" }],
      // vitest's own account of the run, to compare with (scripts/test-formats.sh).
      ...(process.env.VITEST_JSON ? [["json", { outputFile: process.env.VITEST_JSON }]] : []),
    ],
  },
});
