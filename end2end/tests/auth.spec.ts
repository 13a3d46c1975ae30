// Foundation: sign-in, wrong password, lockout, role gating, sign-out, agent creation and
// deactivation, each as a person would do it in Chromium.
import { test, expect } from "@playwright/test";
import { ADMIN, signIn, createAccount, freshPage, hydrated, unique } from "./helpers";

test("a signed-out visitor of /agent is sent to sign in, then back", async ({ page }) => {
  await page.goto("/agent");
  await expect(page).toHaveURL(/\/login\?next=\/agent$/);
  await hydrated(page);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/agent$/);
  const menu = page.getByRole("group", { name: "User menu" });
  await expect(menu).toContainText("Administrator");
  await expect(menu).toContainText("admin");
  await expect(page.getByRole("heading", { name: "Conversations" })).toBeVisible();
});

test("sign out ends the session", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/agent");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a wrong password and an unknown email get the same message", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
  await expect(page).toHaveURL(/\/login/);

  await page.getByLabel("Email").fill(`${unique("nobody")}@example.com`);
  await page.getByLabel("Password").fill("whatever-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Invalid email or password");
});

test("more than 5 failures lock the account out, even with the right password", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const agent = await createAccount(page);

  const { context, page: p } = await freshPage(browser);
  await p.goto("/login");
  await hydrated(p);
  await p.getByLabel("Email").fill(agent.email);
  for (let i = 1; i <= 5; i++) {
    await p.getByLabel("Password").fill(`wrong-${i}`);
    await p.getByRole("button", { name: "Sign in" }).click();
    await expect(p.getByRole("alert")).toHaveText("Invalid email or password");
    // the next attempt must not race the previous one's response
    await expect(p.getByRole("button", { name: "Sign in" })).toBeEnabled();
  }
  await p.getByLabel("Password").fill(agent.password);
  await p.getByRole("button", { name: "Sign in" }).click();
  await expect(p.getByRole("alert")).toHaveText("Too many failed sign-in attempts. Try again in 15 minutes.");
  await expect(p).toHaveURL(/\/login/);
  await context.close();
});

test("agents use the dashboard but get 403 on admin pages", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const agent = await createAccount(page);

  const { context, page: p } = await freshPage(browser);
  await signIn(p, agent.email, agent.password);
  const menu = p.getByRole("group", { name: "User menu" });
  await expect(menu).toContainText(agent.name);
  await expect(menu).toContainText("agent");
  await expect(p.getByRole("link", { name: "Settings" })).toHaveCount(0);

  for (const path of ["/admin", "/admin/agents"]) {
    const res = await p.goto(path);
    expect(res?.status()).toBe(403);
    await expect(p.getByRole("heading", { name: "403 — Admins only" })).toBeVisible();
    await expect(p.getByRole("table")).toHaveCount(0);
  }
  // The server refuses the admin function itself, whatever the UI shows.
  const direct = await p.request.post("/api/users/list", { headers: { Origin: new URL(p.url()).origin } });
  expect(direct.status()).toBe(403);
  await context.close();
});

test("an admin creates an agent, with clear errors for bad input", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole("link", { name: "Agents" }).click();
  await expect(page).toHaveURL(/\/admin\/agents$/);
  const agent = await createAccount(page);
  const row = page.getByRole("row", { name: new RegExp(agent.email) });
  await expect(row).toContainText("agent");
  await expect(row).toContainText("Active");

  // Same email again: refused, inline.
  await page.getByLabel("Name").fill("Someone Else");
  await page.getByLabel("Email").fill(agent.email.toUpperCase());
  await page.getByLabel("Initial password").fill("another-password");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.getByRole("alert")).toHaveText("An account with this email already exists.");

  // An address the browser accepts but we do not.
  await page.getByLabel("Email").fill("someone@localhost");
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.getByRole("alert")).toHaveText("Enter a valid email address.");

  // Promote to admin and back.
  await row.getByRole("button", { name: "Make admin" }).click();
  await expect(row).toContainText("admin");
  await row.getByRole("button", { name: "Make agent" }).click();
  await expect(row.getByRole("button", { name: "Make admin" })).toBeVisible();
});

test("deactivating an agent ends their session at once and blocks sign-in", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const agent = await createAccount(page);

  const { context, page: p } = await freshPage(browser);
  await signIn(p, agent.email, agent.password);

  const row = page.getByRole("row", { name: new RegExp(agent.email) });
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(row).toContainText("Deactivated");

  await p.reload();
  await expect(p).toHaveURL(/\/login\?next=/);
  await hydrated(p);
  await p.getByLabel("Email").fill(agent.email);
  await p.getByLabel("Password").fill(agent.password);
  await p.getByRole("button", { name: "Sign in" }).click();
  await expect(p.getByRole("alert")).toHaveText("Invalid email or password");

  await row.getByRole("button", { name: "Reactivate" }).click();
  await expect(row).toContainText("Active");
  await context.close();
});
