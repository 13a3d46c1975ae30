// The dashboard's live connection in Chromium: presence of the team, and a socket that comes
// back by itself (backoff) and at once when the browser is back online.
import { test, expect, WebSocketRoute } from "@playwright/test";
import { ADMIN, signIn, createAccount, freshPage, hydrated } from "./helpers";

test("the dashboard shows who is online and reconnects by itself", async ({ page, browser, context }) => {
  let refuse = false;
  let refused = 0;
  let current: WebSocketRoute | undefined;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (refuse) {
      refused += 1;
      ws.close();
      return;
    }
    ws.connectToServer();
    current = ws;
  });

  await signIn(page, ADMIN.email, ADMIN.password);
  const agent = await createAccount(page);
  await page.goto("/agent");
  await hydrated(page);
  const status = page.getByRole("status");
  const list = page.getByRole("list", { name: "Active agents" });
  await expect(status).toHaveText("Connected");
  await expect(list).toContainText("Administrator — online");

  // Another agent signs in: the list updates live.
  const other = await freshPage(browser);
  await signIn(other.page, agent.email, agent.password);
  await expect(list).toContainText(`${agent.name} — online`);

  // The network drops and stays down: the page says so and keeps retrying with backoff.
  refuse = true;
  await current!.close();
  await expect(status).toHaveText("Reconnecting…");
  await expect.poll(() => refused, { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
  // The next retry is now 4–8 s away; the browser's "online" event must not wait for it.
  refuse = false;
  await context.setOffline(true);
  await context.setOffline(false);
  await expect(status).toHaveText("Connected", { timeout: 2_500 });
  // After the reconnect the list is rebuilt from the server, not left stale.
  await expect(list).toContainText("Administrator — online");
  await expect(list).toContainText(`${agent.name} — online`);

  // The other agent leaves: they drop off the list.
  await other.context.close();
  await expect(list).not.toContainText(agent.name);
});
