// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-dismiss-toast]");
  if (close) close.closest(".toast")?.remove();
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});
// Notices fade on their own; errors stay until dismissed.
const TOAST_LIFETIME_MS = { "toast--info": 6000, "toast--success": 12000 };
new MutationObserver((mutations) => {
  for (const mutation of mutations) {
    for (const node of mutation.addedNodes) {
      if (!(node instanceof HTMLElement) || !node.classList.contains("toast")) continue;
      const kind = Object.keys(TOAST_LIFETIME_MS).find((name) => node.classList.contains(name));
      if (kind) setTimeout(() => node.remove(), TOAST_LIFETIME_MS[kind]);
    }
  }
}).observe(document.getElementById("toasts") || document.body, { childList: true });
