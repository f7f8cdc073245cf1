// What the server-rendered page tells the script: the signed-in member, the
// open conversation, and the CSRF token that state-changing API calls repeat.
// Module scripts run after the document is parsed, so these are already there.

export const app = document.querySelector(".app");
export const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
export const openId = app?.dataset.conversation || "";
export const userId = app?.dataset.user || "";
