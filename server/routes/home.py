"""`GET /`: a plain sign-in page until the web client lands."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tandem</title>
<style>body{font:16px system-ui;max-width:28rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;display:block;width:100%;margin:.4rem 0;padding:.5rem}</style>
</head><body><h1>Tandem</h1>
<form id="f"><input name="email" type="email" placeholder="Email" required>
<input name="password" type="password" placeholder="Password" required>
<button>Sign in</button></form><pre id="out"></pre>
<script>
document.getElementById("f").onsubmit = async (e) => {
  e.preventDefault();
  const data = Object.fromEntries(new FormData(e.target));
  const r = await fetch("/api/session", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(data)});
  document.getElementById("out").textContent = JSON.stringify(await r.json(), null, 2);
};
</script></body></html>"""


async def home(request: Request) -> Response:
    return HTMLResponse(PAGE)


routes: list[BaseRoute] = [Route("/", home, methods=["GET"])]
