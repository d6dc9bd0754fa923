"""Gatehouse's two small pages behind the links in mail: `/reset-password` and `/verify-email`.

The token travels in the URL fragment (`#token=…`): browsers never send a fragment to a server, so it
reaches no access log, no proxy and no `Referer`. The page reads it, removes it from the address bar at
once (`history.replaceState`, so it is not left in the history either) and keeps it in memory only.

Loading a page spends nothing: mail scanners fetch links, and some run their scripts. The token is spent
only by a POST to the confirm endpoint, made when a person acts (submits a new password, presses
"Confirm"); a scanner that merely opens the link leaves it valid for its owner.

The pages are self-contained (inline CSS and JS, no other origin) under a strict Content-Security-Policy
that allows exactly those inline blocks, by hash, and only same-origin `fetch`.
"""

from __future__ import annotations

import base64
import hashlib

from fastapi.responses import HTMLResponse

from api.deps import GatehouseRouter

router = GatehouseRouter(include_in_schema=False)

_STYLE = """
:root { color-scheme: light dark; font: 1rem/1.5 system-ui, sans-serif; }
body { margin: 0; }
main { max-width: 32rem; margin: 0 auto; padding: 2rem 1rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input { box-sizing: border-box; width: 100%; padding: .5rem; font: inherit; margin-bottom: 1rem; }
button { font: inherit; padding: .5rem 1.25rem; cursor: pointer; }
button:disabled { cursor: progress; opacity: .6; }
:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
[hidden] { display: none !important; }
#status:empty { display: none; }
#status { margin-top: 1.5rem; padding: .75rem 1rem; border-left: .3rem solid currentColor; }
#status.ok { color: #15803d; }
#status.error { color: #b91c1c; }
"""

# Shared by both pages: take the token out of the address bar, post JSON, say the answer.
_COMMON_JS = """
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const out = document.getElementById("status");
function say(text, kind) {
  out.textContent = text;
  out.className = kind;
  out.focus();
}
async function post(path, body) {
  try {
    const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body), credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer"});
    let answer = {};
    if (r.status !== 204) { try { answer = await r.json(); } catch (e) { answer = {}; } }
    return {status: r.status, body: answer || {}};
  } catch (e) {
    return {status: 0, body: {}};
  }
}
function sayTryLater(answer) {
  if (answer.status === 429) say("Too many attempts. Please wait a while, then try again.", "error");
  else if (answer.status === 0) say("Gatehouse could not be reached. Check your connection and try again.", "error");
  else say("Gatehouse cannot do this right now. Please try again later.", "error");
}
function incomplete(what) {
  say("This link is incomplete. Open the link from the mail again, whole, or request a new " + what + ".",
      "error");
}
"""

_RESET_JS = _COMMON_JS + """
const form = document.getElementById("reset");
const field = document.getElementById("new-password");
const button = form.querySelector("button");
if (token) form.hidden = false; else incomplete("password reset");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  button.disabled = true;
  const answer = await post("auth/password-reset/confirm", {token: token, new_password: field.value});
  button.disabled = false;
  field.removeAttribute("aria-invalid");
  if (answer.status === 204) {
    form.hidden = true;
    say("Your password was changed, and every session of your account was signed out. " +
        "You can now sign in with the new password.", "ok");
  } else if (answer.status === 400 && answer.body.code === "invalid_reset_token") {
    form.hidden = true;
    say("This link is expired, already used, or replaced by a newer one. Request a new password reset.",
        "error");
  } else if (answer.status === 422) {
    field.setAttribute("aria-invalid", "true");
    const detail = String(answer.body.detail || "This password is not accepted").replace(/[.]$/, "");
    say(detail + ". Choose another one and try again.", "error");
  } else {
    sayTryLater(answer);
  }
});
"""

_VERIFY_JS = _COMMON_JS + """
const button = document.getElementById("confirm");
if (token) button.hidden = false; else incomplete("verification mail");
button.addEventListener("click", async () => {
  button.disabled = true;
  const answer = await post("auth/email-verification/confirm", {token: token});
  button.disabled = false;
  if (answer.status === 200) {
    button.hidden = true;
    say("Your address " + answer.body.email + " is confirmed.", "ok");
  } else if (answer.status === 400 && answer.body.code === "invalid_verification_token") {
    button.hidden = true;
    say("This link is expired, already used, or replaced by a newer one. Request a new verification mail.",
        "error");
  } else if (answer.status === 409 && answer.body.code === "email_taken") {
    button.hidden = true;
    say("This address was taken by another account meanwhile, so your account keeps its current address.",
        "error");
  } else {
    sayTryLater(answer);
  }
});
"""

_RESET_BODY = """<h1>Choose a new password</h1>
<form id="reset" hidden>
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" minlength="8"
 maxlength="1024" required aria-describedby="password-hint">
<p id="password-hint">At least 8 characters, and not a common password.</p>
<button type="submit">Set new password</button>
</form>"""

_VERIFY_BODY = """<h1>Confirm your email address</h1>
<p>Press the button to confirm that this email address is yours. Nothing happens until you do.</p>
<button id="confirm" type="button" hidden>Confirm</button>"""


def _source_hash(source: str) -> str:
    """A CSP hash source for an inline block: sha256 of its exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def _page(title: str, body: str, script: str) -> tuple[bytes, dict[str, str]]:
    """The page's HTML and its headers; the CSP allows exactly its own inline style and script."""
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · Gatehouse</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
{body}
<noscript><p>This page needs JavaScript to send your answer to Gatehouse.</p></noscript>
<p id="status" role="status" aria-live="polite" tabindex="-1"></p>
</main>
<script>{script}</script>
</body>
</html>
"""
    policy = (f"default-src 'none'; script-src {_source_hash(script)}; style-src {_source_hash(_STYLE)}; "
              "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
               "X-Content-Type-Options": "nosniff", "Cross-Origin-Opener-Policy": "same-origin"}
    return html.encode(), headers


_RESET_PAGE = _page("Choose a new password", _RESET_BODY, _RESET_JS)
_VERIFY_PAGE = _page("Confirm your email address", _VERIFY_BODY, _VERIFY_JS)


def _html(page: tuple[bytes, dict[str, str]]) -> HTMLResponse:
    content, headers = page
    return HTMLResponse(content, headers=headers, media_type="text/html; charset=utf-8")


@router.get("/reset-password")
async def reset_password_page() -> HTMLResponse:
    """Asks for the new password; the token from the fragment is spent only when the form is submitted."""
    return _html(_RESET_PAGE)


@router.get("/verify-email")
async def verify_email_page() -> HTMLResponse:
    """Explains, and confirms only when the person presses "Confirm"."""
    return _html(_VERIFY_PAGE)
