// Behaviour every page shares: auto-submitting selects, copy buttons, the help
// dialog, confirmations for destructive forms, local times.

import { localizeTimes } from "./times.js";
import { toast } from "./toast.js";

export function openHelp() {
  const dialog = document.getElementById("help");
  if (dialog && !dialog.open) dialog.showModal();
}

async function copyField(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    toast("Copied");
  } catch {
    toast("Press Ctrl+C to copy the selected text");
  }
}

export function wireCommonControls() {
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit")) {
      field.form?.requestSubmit();
    }
  });
  document.addEventListener("click", (event) => {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      copyField(copy);
      return;
    }
    if (event.target.closest('[data-action="help"]')) openHelp();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  localizeTimes();
}
