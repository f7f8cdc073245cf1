// Short notices in the corner: what happened, or the API's error message.

const NOTICE_MS = 4000;
const ERROR_MS = 8000;

export function toast(text, kind = "notice") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? ERROR_MS : NOTICE_MS);
}
