// The access token, for a server that needs one (bound beyond this machine): opened with the
// link `formcheck serve` printed (.../#token=...), the page trades the token for a cookie
// (POST /api/auth) and drops it from the address bar, then reloads. A page without the
// cookie says how to get in. See formcheck/server/access.py.
"use strict";

async function signInFromAddress() {
  const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!match) return false;
  await fetch("/api/auth", {
    method: "POST",
    headers: { Authorization: `Bearer ${decodeURIComponent(match[1])}` },
  });
  location.replace(location.pathname + location.search);  // the token leaves the address
  return true;
}

(async () => {
  if (await signInFromAddress()) return;
  const status = await (await fetch("/api/auth", { cache: "no-store" })).json();
  if (status.token_required && !status.authenticated) {
    const note = document.createElement("p");
    note.id = "auth-needed";
    note.className = "error";
    note.setAttribute("role", "alert");
    note.textContent = "This server needs its access token: open the link that " +
      "`formcheck serve` printed (it ends in #token=...).";
    document.body.prepend(note);
  }
})();
window.addEventListener("hashchange", signInFromAddress);  // the link pasted into this tab
