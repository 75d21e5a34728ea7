// DriverLens dashboard: small progressive enhancement. Every page works without this file.
"use strict";
document.documentElement.classList.add("js");

async function fragment(url, options) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  if (response.redirected && new URL(response.url).pathname === "/ui/signin") {
    window.location.assign(response.url);
    return null;
  }
  return response.text();
}

// Overview filters: refresh the charts in place and keep the address shareable.
function enhanceFilters() {
  const form = document.getElementById("filters");
  if (!form) return;
  const target = document.getElementById(form.dataset.target);
  const refresh = async () => {
    const query = new URLSearchParams(new FormData(form)).toString();
    target.setAttribute("aria-busy", "true");
    const html = await fragment(`${form.dataset.fragment}?${query}`);
    if (html !== null) target.innerHTML = html;
    target.removeAttribute("aria-busy");
    history.replaceState(null, "", `${form.action}?${query}`);
  };
  form.addEventListener("change", refresh);
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
}

// Template form: a live preview that follows the edits (debounced).
function enhancePreview() {
  const form = document.getElementById("template-form");
  const target = document.getElementById("preview");
  if (!form || !target) return;
  let timer = 0;
  const run = async () => {
    target.setAttribute("aria-busy", "true");
    const html = await fragment(form.dataset.preview, { method: "POST", body: new FormData(form) });
    if (html !== null) target.innerHTML = html;
    target.removeAttribute("aria-busy");
  };
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 700); });
  const button = document.getElementById("preview-button");
  if (button) button.addEventListener("click", run);
  run();
}

// Run history: refresh while a run is pending or in progress.
function enhanceRuns() {
  const target = document.getElementById("runs");
  if (!target) return;
  const poll = async () => {
    if (!target.querySelector("[data-pending]")) return;
    const html = await fragment(target.dataset.refresh);
    if (html !== null) target.innerHTML = html;
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}

enhanceFilters();
enhancePreview();
enhanceRuns();
