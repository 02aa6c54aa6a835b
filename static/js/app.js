// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-dismiss-toast]");
  if (close) close.closest(".toast")?.remove();
});
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});
