/*
 * Moderation on the pages: the report forms (image and profile pages), the Block button of
 * a profile, and the actions of the admins' moderation page. Each calls the API and says in
 * a status line what happened; nothing here works without the session the page was given.
 */

import { apiFetch, problem } from "./lib/api.js";

function initReport(form) {
  const status = form.querySelector("[data-report-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = "Sending…";
    const body = {
      subject: form.dataset.subject,
      id: form.dataset.id,
      reason: form.elements.reason.value,
      note: form.elements.note.value,
    };
    try {
      const response = await apiFetch("/api/v1/reports", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      status.textContent = response.ok
        ? "Thank you: the moderators will look at it."
        : "Could not send the report: " + (await problem(response));
    } catch (error) {
      status.textContent = "Could not send the report. Try again.";
    } finally {
      button.disabled = false;
    }
  });
}

function initBlock(button) {
  const status = document.querySelector("[data-block-status]");
  const username = button.dataset.username;
  button.addEventListener("click", async () => {
    const blocked = button.dataset.blocked === "true";
    button.disabled = true;
    try {
      const response = await apiFetch("/api/v1/users/" + encodeURIComponent(username) + "/block", {
        method: blocked ? "DELETE" : "PUT",
      });
      if (!response.ok) {
        throw new Error(await problem(response));
      }
      button.dataset.blocked = blocked ? "false" : "true";
      button.textContent = blocked ? "Block" : "Unblock";
      status.textContent = blocked
        ? "You no longer block " + username + "."
        : "You blocked " + username + ": neither of you sees the other's photos.";
    } catch (error) {
      status.textContent = "Could not change the block: " + error.message;
    } finally {
      button.disabled = false;
    }
  });
}

function initResolve(form) {
  const status = form.querySelector("[data-resolve-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "dismiss";
    status.textContent = "Working…";
    try {
      const response = await apiFetch("/api/v1/admin/reports/" + form.dataset.reportId + "/resolve", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action: action, note: form.elements.note.value }),
      });
      if (!response.ok) {
        throw new Error(await problem(response));
      }
      status.textContent = "Done: " + action + ".";
      form.closest("[data-report-row]").dataset.resolved = "true";
      window.location.reload();
    } catch (error) {
      status.textContent = "Could not " + action + ": " + error.message;
    }
  });
}

document.querySelectorAll("[data-report]").forEach(initReport);
document.querySelectorAll("[data-block]").forEach(initBlock);
document.querySelectorAll("[data-resolve]").forEach(initResolve);
