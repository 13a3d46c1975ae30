// A customer's website for the widget tests, on its own origin (another port than
// Switchboard's): GET /?site=KEY&server=URL serves a page that embeds the loader.
import http from "node:http";

const port = Number(process.env.E2E_HOST_PORT ?? 3211);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

http
  .createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (url.pathname === "/healthz") return res.end("ok");
    const site = url.searchParams.get("site") ?? "";
    const server = url.searchParams.get("server") ?? "";
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host shop</title></head>
<body><h1>Host shop</h1><p>A customer's page on another origin.</p>
<script src="${esc(server)}/widget.js" data-site="${esc(site)}" async></script>
</body></html>`);
  })
  .listen(port, "127.0.0.1");
