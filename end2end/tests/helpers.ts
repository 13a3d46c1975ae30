import { expect, Page, Browser } from "@playwright/test";

export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

/** A unique suffix so tests never collide on emails (lockout counts per email). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Waits until the WASM bundle has hydrated the page (buttons need it). */
export async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__sbHydrated === true || document.body.dataset.hydrated === "true", null, { timeout: 30_000 });
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/agent$/);
  await expect(page.getByRole("group", { name: "User menu" })).toBeVisible();
}

/** As admin, creates an account through /admin/agents; returns its credentials. */
export async function createAccount(page: Page, role: "agent" | "admin" = "agent") {
  const name = unique("Agent");
  const email = `${name.toLowerCase()}@example.com`;
  const password = "agent-password-1";
  await page.goto("/admin/agents");
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Initial password").fill(password);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Create agent" }).click();
  await expect(page.getByRole("status")).toHaveText(`Created ${name} (${email}).`);
  await expect(page.getByRole("row", { name: new RegExp(email) })).toBeVisible();
  return { name, email, password };
}

/** A fresh browser context (its own cookies), with a page in it. */
export async function freshPage(browser: Browser) {
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}
