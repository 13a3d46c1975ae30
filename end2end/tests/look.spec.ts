// Admin "Widget" settings: the appearance form with its live preview (colour, position,
// title, language) before saving, a refused colour, the save; then the widget on a customer's
// page of another origin follows: launcher on the left, French strings, the chosen colour.
import { test, expect, Page } from "@playwright/test";
import { ADMIN, signIn, hydrated, unique } from "./helpers";
import { baseURL } from "../playwright.config";

const hostURL = `http://127.0.0.1:${process.env.E2E_HOST_PORT ?? "3211"}`;
const RUST = "rgb(170, 51, 0)"; // #aa3300

/** Creates a site on /admin/sites (its own, so other tests keep the demo site's look); returns its key. */
async function createSite(page: Page, name: string): Promise<string> {
  await page.goto("/admin/sites");
  await hydrated(page);
  await page.getByLabel("Site name").fill(name);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created ${name}.` })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
  // "Site key: KEY" (the site just created is the one shown).
  const line = await page.getByText("Site key:").innerText();
  return /Site key:\s*(\S+)/.exec(line)![1];
}

test("an admin styles the widget with a live preview; the widget on another origin follows", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const name = unique("Boutique");
  const key = await createSite(page, name);

  await page.goto("/admin/widget");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: name });
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();

  const preview = page.getByRole("group", { name: "Widget preview" });
  const stage = await preview.boundingBox();
  // Defaults first: English, on the right.
  await expect(preview.getByText("Start Chat")).toBeVisible();
  const launcher = preview.getByRole("img", { name: "Open chat" });
  const right = await launcher.boundingBox();
  expect(right!.x).toBeGreaterThan(stage!.x + stage!.width / 2);

  // The preview follows the form as it is typed, before any save.
  await page.getByLabel("Primary colour").fill("#aa3300");
  await expect(preview.getByText("Start Chat")).toHaveCSS("background-color", RUST);
  await page.getByLabel("Launcher position").selectOption("left");
  const title = unique("Aide");
  await page.getByLabel("Title").fill(title);
  await expect(preview.getByText(title)).toBeVisible();
  await page.getByLabel("Welcome text").fill("Bonjour ! Comment pouvons-nous vous aider ?");
  await expect(preview.getByText("Bonjour ! Comment pouvons-nous vous aider ?")).toBeVisible();
  await page.getByLabel("Language").selectOption({ label: "Français" });
  const start = preview.getByText("Démarrer la discussion");
  await expect(start).toBeVisible();
  await expect(start).toHaveCSS("background-color", RUST);
  const left = preview.getByRole("img", { name: "Ouvrir la discussion" });
  await expect(left).toHaveCSS("background-color", RUST);
  const leftBox = await left.boundingBox();
  expect(leftBox!.x + leftBox!.width).toBeLessThan(stage!.x + stage!.width / 2);

  // Not yet saved: the loader still has the defaults.
  const before = await (await page.request.get(`${baseURL}/widget/${key}/config`)).json();
  expect(before.position).toBe("right");

  // A colour that is not hex is refused next to the field; the preview keeps the last good one.
  await page.getByLabel("Primary colour").fill("rust");
  await expect(start).toHaveCSS("background-color", "rgb(37, 99, 235)"); // the saved #2563eb
  await page.getByRole("button", { name: "Save appearance" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "is not a colour" })).toBeVisible();
  await page.getByLabel("Primary colour").fill("#aa3300");
  await page.getByRole("button", { name: "Save appearance" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Appearance saved." })).toBeVisible();
  const after = await (await page.request.get(`${baseURL}/widget/${key}/config`)).json();
  expect(after).toEqual({ position: "left", color: "#aa3300", title, label: "Ouvrir la discussion" });

  // The customer's page, on another origin, in a fresh context.
  const ctx = await browser.newContext();
  const host = await ctx.newPage();
  await host.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
  // The launcher is named in the widget's language too.
  const open = host.getByRole("button", { name: "Ouvrir la discussion" });
  await expect(open).toBeVisible();
  await expect(open).toHaveCSS("left", "20px");
  await expect(open).toHaveCSS("background-color", RUST);
  const viewport = host.viewportSize()!;
  const box = await open.boundingBox();
  expect(box!.x).toBeLessThan(viewport.width / 2);
  await open.click();

  const chat = host.frameLocator('iframe[title="Chat"]');
  await expect(chat.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
  await expect(chat.locator("html")).toHaveAttribute("lang", "fr");
  const heading = chat.getByRole("heading", { level: 1, name: title });
  await expect(heading).toBeVisible();
  // The header (the title's bar) is in the chosen colour.
  await expect
    .poll(() => heading.evaluate((h) => getComputedStyle(h.parentElement!).backgroundColor))
    .toBe(RUST);
  await expect(chat.getByRole("button", { name: "Fermer la discussion" })).toBeVisible();
  // A new site has guest mode off: the French sign-in note.
  await expect(chat.getByText("Veuillez vous connecter pour discuter avec nous.")).toBeVisible();
  await expect(chat.getByText("Please sign in to chat with us.")).toHaveCount(0);
  await ctx.close();

  // A reload of the admin page shows the saved values.
  await page.goto("/admin/widget");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: name });
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
  await expect(page.getByLabel("Primary colour")).toHaveValue("#aa3300");
  await expect(page.getByLabel("Language")).toHaveValue("fr");
  await expect(page.getByLabel("Launcher position")).toHaveValue("left");
});

test("pre-chat and attachments: refused when invalid, saved with their own buttons", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const name = unique("Boutique");
  await createSite(page, name);
  await page.goto("/admin/widget");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: name });
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();

  const phone = page.getByRole("group", { name: "Phone" });
  await phone.getByLabel("Show").uncheck();
  await phone.getByLabel("Required").check();
  await page.getByRole("button", { name: "Save pre-chat form" }).click();
  await expect(phone.getByRole("alert")).toHaveText(
    "Phone cannot be required while it is hidden. Show it, or make it optional.",
  );
  await phone.getByLabel("Show").check();
  await page.getByRole("button", { name: "Save pre-chat form" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Pre-chat form saved." })).toBeVisible();

  // The next form carries the version the last save moved to (no false "changed by").
  await page.getByLabel("Size limit (MB)").fill("101");
  await page.getByRole("button", { name: "Save attachments" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "from 1 to 100" })).toBeVisible();
  await page.getByLabel("Size limit (MB)").fill("5");
  await page.getByLabel("Allowed file types").fill("image/*\napplication/pdf");
  await page.getByRole("button", { name: "Save attachments" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Attachments saved." })).toBeVisible();
});
