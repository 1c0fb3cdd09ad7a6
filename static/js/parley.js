// Small behaviours for server-rendered pages; every page works without them.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.querySelector(button.dataset.copy)?.textContent ?? "";
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    getSelection().selectAllChildren(document.querySelector(button.dataset.copy));
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => (button.textContent = "Copy"), 2000);
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !confirm(message)) event.preventDefault();
});

// Label chips and website swatches inserted after the page loaded (htmx swaps, inbox pushes) may
// carry a colour the page's nonce'd <style> (color_style) does not list: give it to them through
// the CSSOM, which the Content-Security-Policy allows where a style attribute would be refused.
const COLOR = /^#[0-9a-fA-F]{6}$/;
function paintColor(el) {
  if (COLOR.test(el.dataset.color ?? "")) el.style.setProperty(el.classList.contains("swatch") ? "--swatch" : "--label", el.dataset.color);
}
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      paintColor(node);
      node.querySelectorAll("[data-color]").forEach(paintColor);
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });

// The narrow screen's menu (base.html): the button shows and hides the nav, whose CSS follows
// aria-expanded. Escape closes it and gives the focus back to the button; so do focus or a click
// going elsewhere on the page.
const navToggle = document.querySelector(".nav-toggle");
if (navToggle) {
  const header = navToggle.closest(".site-header");
  const isOpen = () => navToggle.getAttribute("aria-expanded") === "true";
  const setOpen = (open) => navToggle.setAttribute("aria-expanded", String(open));
  navToggle.addEventListener("click", () => setOpen(!isOpen()));
  header.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !isOpen()) return;
    event.stopPropagation();
    setOpen(false);
    navToggle.focus();
  });
  // A focus moving to nothing (a click on the menu's own background) keeps it open.
  header.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !header.contains(event.relatedTarget)) setOpen(false);
  });
  document.addEventListener("click", (event) => {
    if (isOpen() && !header.contains(event.target)) setOpen(false);
  });
}

// While staff view a workspace as a member (staff.middleware): a write htmx sent is refused with a
// sentence, said here (htmx swaps nothing on a 403); the banner's minutes left keep counting.
document.body.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  if (xhr.getResponseHeader("X-Parley-Refused")) alert(xhr.responseText);
});
const impersonationEnds = document.querySelector("[data-impersonation-ends]");
if (impersonationEnds) {
  const tick = () => {
    const seconds = (Date.parse(impersonationEnds.dateTime) - Date.now()) / 1000;
    impersonationEnds.textContent = seconds > 0 ? `${Math.ceil(seconds / 60)} min left` : "time is up: reload";
  };
  setInterval(tick, 15000);
}
