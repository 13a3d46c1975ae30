// Playwright drives Debian's Chromium (never a downloaded browser) against the real server,
// started by serve.sh on its own fresh database.
import { defineConfig } from "@playwright/test";

const port = process.env.E2E_PORT ?? "3210";
export const baseURL = `http://127.0.0.1:${port}`;
const hostPort = process.env.E2E_HOST_PORT ?? "3211";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: "bash ./serve.sh",
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      stderr: "pipe",
      env: { E2E_PORT: port },
    },
    {
      // The customer's site, on another origin.
      command: "node ./host-server.mjs",
      url: `http://127.0.0.1:${hostPort}/healthz`,
      reuseExistingServer: false,
      env: { E2E_HOST_PORT: hostPort },
    },
  ],
});
