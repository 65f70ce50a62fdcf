/*
 * Confirmation dialogs (see app.js, which re-exports them): a native modal dialog that asks
 * before something that cannot be undone, Cancel focused first, the focus back where it was.
 */
import { el } from "./dom.js";

let dialogSeq = 0;

/** Ask before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog({ title, text, confirm, cancel, danger }) {
  return new Promise((resolve) => {
    dialogSeq += 1;
    const opener = document.activeElement;
    const dialog = el("dialog", "confirm-dialog");
    const titleId = "confirm-title-" + dialogSeq;
    dialog.setAttribute("aria-labelledby", titleId);
    const h = el("h2", "", title);
    h.id = titleId;
    dialog.appendChild(h);
    if (text) dialog.appendChild(el("p", "", text));
    const actions = el("div", "actions");
    const no = el("button", "button secondary", cancel || "Cancel");
    no.type = "button";
    const yes = el("button", "button" + (danger ? " danger" : ""), confirm);
    yes.type = "button";
    actions.appendChild(no);
    actions.appendChild(yes);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
    let answer = false;
    no.addEventListener("click", () => dialog.close());
    yes.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (!answer && opener && opener.focus) opener.focus();
      resolve(answer);
    });
    dialog.showModal();
    no.focus();
  });
}
